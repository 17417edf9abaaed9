// UI strings for the modules: the same merged catalogue the server renders with
// (web/locales/<lang>/*.json, served at /locales/<lang>.json), kept on the phone per version.

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
  const locale = lang();
  const version = document.documentElement.dataset.v || "";
  const key = `wg_strings:${locale}`;
  const kept = saved(key);
  if (kept && kept.version === version) {
    strings = kept.strings;
    return;
  }
  try {
    const response = await fetch(`/locales/${encodeURIComponent(locale)}.json`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    strings = await response.json();
    try {
      localStorage.setItem(key, JSON.stringify({ version, strings }));
    } catch {
      // Storage full: fetch again next time.
    }
  } catch {
    strings = kept ? kept.strings : {};
  }
}

/** Translate `key`, filling `{name}` placeholders from `params`; unknown keys show as themselves. */
export function t(key, params = {}) {
  const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}
