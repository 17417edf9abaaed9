// Language and elder mode (长辈模式), chosen per phone. Kept in localStorage and mirrored in
// cookies, so the server renders the next page in the same language and size from its
// first byte (no flash of small text for an elder).

export const LANGS = ["zh-CN", "en"];
const YEAR = 60 * 60 * 24 * 365;

function setCookie(name, value) {
  document.cookie = `${name}=${encodeURIComponent(value)}; Path=/; Max-Age=${YEAR}; SameSite=Lax`;
}

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode or storage full: the cookie still carries the choice.
  }
}

function tellServiceWorker() {
  // The cached offline page was rendered with the old choice; let the worker fetch it again.
  const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
  if (worker) worker.postMessage({ type: "prefs-changed" });
}

/** The language this page was rendered in. */
export function lang() {
  return document.documentElement.lang || LANGS[0];
}

export function setLang(value) {
  if (!LANGS.includes(value)) return;
  store("wg_lang", value);
  setCookie("wg_lang", value);
  tellServiceWorker();
}

export function isElder() {
  return document.documentElement.classList.contains("elder");
}

export function setElder(on) {
  store("wg_elder", on ? "1" : "0");
  setCookie("wg_elder", on ? "1" : "0");
  document.documentElement.classList.toggle("elder", on);
  tellServiceWorker();
}

/**
 * Bring the cookies back in line with what this phone chose (WeChat's browser may drop
 * cookies but keep localStorage). Returns true when the page was rendered in another
 * language than the phone's choice and should be loaded again.
 */
export function syncPrefs() {
  const elder = load("wg_elder");
  if (elder === "1" || elder === "0") {
    if (readCookie("wg_elder") !== elder) setCookie("wg_elder", elder);
    document.documentElement.classList.toggle("elder", elder === "1");
  }
  const chosen = load("wg_lang");
  if (chosen && LANGS.includes(chosen) && readCookie("wg_lang") !== chosen) {
    setCookie("wg_lang", chosen);
    // Reload only if the cookie stuck, or a browser without cookies would loop forever.
    return chosen !== lang() && readCookie("wg_lang") === chosen;
  }
  return false;
}
