// UI strings for the modules: the catalogue areas this page needs (web/locales/<lang>/<area>.json,
// named with their versions in <html data-strings>; app/web/assets.py), kept on the phone per
// version so a page opened offline without a service worker (WeChat) still has its words.

import { lang } from "./prefs.js";

let strings = {};

function saved(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

export async function loadStrings() {
  const urls = (document.documentElement.dataset.strings || "").split(" ").filter(Boolean);
  // In the order given, which is the server's: an area read later wins, as on the server.
  strings = Object.assign({}, ...(await Promise.all(urls.map(loadArea))));
  try {
    localStorage.removeItem(`wg_strings:${lang()}`); // the whole catalogue kept by earlier versions
  } catch {
    // Storage blocked: nothing was kept either.
  }
}

async function loadArea(url) {
  const key = `wg_strings:${url.split("?")[0]}`;
  const kept = saved(key);
  if (kept && kept.url === url) return kept.strings;
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const area = await response.json();
    try {
      localStorage.setItem(key, JSON.stringify({ url, strings: area }));
    } catch {
      // Storage full: fetch again next time.
    }
    return area;
  } catch {
    return kept ? kept.strings : {};
  }
}

/** Translate `key`, filling `{name}` placeholders from `params`; unknown keys show as themselves. */
export function t(key, params = {}) {
  const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}
