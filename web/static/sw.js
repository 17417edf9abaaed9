/* The Wugong service worker, served at /sw.js (scope /). Registered only outside WeChat;
   every page works without it.

   - The shell (CSS, modules, icons, catalogues, /offline) is cached at install, per version
     (/sw.js?v=<digest of the static files>), from the list /sw-shell.json gives: every file
     under its versioned URL (?v=<digest of its content>), which never changes, so it is served
     from the cache first; a plain URL (a browser without import maps) goes to the network and,
     offline, gets this version's copy of the same file.
   - A page that cannot be fetched shows /offline.
   - API GETs go to the network first; when it fails, the last answer is served, marked with
     the X-Wugong-Stale header so the page can say it is showing a saved copy.
   - Writes are never touched here: the page's queue (queue.js) owns them. */

const VERSION = new URL(self.location.href).searchParams.get("v") || "dev";
const SHELL_CACHE = `wg-shell-${VERSION}`;
const API_CACHE = "wg-api";
const OFFLINE_URL = "/offline";

self.addEventListener("install", (event) => {
  event.waitUntil(
    fetch(`/sw-shell.json?v=${encodeURIComponent(VERSION)}`, { cache: "no-store" })
      .then((response) => response.json())
      // Files the page has just loaded come from the HTTP cache: versioned URLs are immutable.
      .then(({ urls }) => caches.open(SHELL_CACHE).then((cache) => cache.addAll(urls)))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("wg-shell-") && key !== SHELL_CACHE).map((key) => caches.delete(key)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === "signed-out") {
    // Another person may use this phone next: drop the kept answers.
    event.waitUntil(caches.delete(API_CACHE));
  } else if (type === "prefs-changed") {
    // The offline page was rendered in the old language or size.
    event.waitUntil(
      caches.open(SHELL_CACHE).then((cache) => cache.add(new Request(OFFLINE_URL, { cache: "reload" }))),
    );
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => offlinePage()));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/api/") && !url.pathname.startsWith("/api/v1/auth/")) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/locales/")) {
    event.respondWith(shellFirst(request));
  }
});

async function offlinePage() {
  const cached = await caches.match(OFFLINE_URL);
  return cached || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
}

async function networkFirst(request) {
  const cache = await caches.open(API_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (!cached) throw error;
    const headers = new Headers(cached.headers);
    headers.set("X-Wugong-Stale", "1");
    return new Response(await cached.blob(), { status: cached.status, headers });
  }
}

async function shellFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  try {
    return await fetch(request);
  } catch (error) {
    const copy = await cache.match(request, { ignoreSearch: true });
    if (!copy) throw error;
    return copy;
  }
}
