/* The Wugong service worker, served at /sw.js (scope /). Registered only outside WeChat;
   every page works without it.

   - The shell (CSS, modules, icons, catalogues, /offline) is cached at install, per version
     (/sw.js?v=<digest of the static files>), and served stale-while-revalidate.
   - A page that cannot be fetched shows /offline.
   - API GETs go to the network first; when it fails, the last answer is served, marked with
     the X-Wugong-Stale header so the page can say it is showing a saved copy.
   - Writes are never touched here: the page's queue (queue.js) owns them. */

const VERSION = new URL(self.location.href).searchParams.get("v") || "dev";
const SHELL_CACHE = `wg-shell-${VERSION}`;
const API_CACHE = "wg-api";
const OFFLINE_URL = "/offline";
const SHELL = [
  OFFLINE_URL,
  "/static/manifest.webmanifest",
  "/static/css/tokens.css",
  "/static/css/app.css",
  "/static/icons/icon-192.png",
  "/static/icons/maskable-192.png",
  "/static/js/api.js",
  "/static/js/i18n.js",
  "/static/js/issues.js",
  "/static/js/poster.js",
  "/static/js/prefs.js",
  "/static/js/queue.js",
  "/static/js/shell.js",
  "/static/js/signin.js",
  "/static/js/ui.js",
  "/static/js/pages/audit.js",
  "/static/js/pages/community.js",
  "/static/js/pages/home.js",
  "/static/js/pages/inbox.js",
  "/static/js/pages/issues-map.js",
  "/static/js/pages/invites.js",
  "/static/js/pages/issue-new.js",
  "/static/js/pages/issue-queue.js",
  "/static/js/pages/issue.js",
  "/static/js/pages/issues.js",
  "/static/js/pages/join-requests.js",
  "/static/js/pages/join.js",
  "/static/js/pages/login.js",
  "/static/js/pages/members.js",
  "/static/js/pages/missing.js",
  "/static/js/pages/offline.js",
  "/static/js/pages/patrol.js",
  "/static/js/pages/places.js",
  "/static/js/pages/poll-new.js",
  "/static/js/pages/poll-paper.js",
  "/static/js/pages/poll-parts.js",
  "/static/js/pages/poll.js",
  "/static/js/pages/polls.js",
  "/static/js/pages/receipt.js",
  "/static/js/pages/region.js",
  "/static/js/pages/roster.js",
  "/static/js/pages/settings.js",
  "/static/js/pages/triage.js",
  "/static/css/map.css",
  "/static/css/poll-admin.css",
  "/static/css/polls.css",
  "/locales/zh-CN.json",
  "/locales/en.json",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
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
    event.respondWith(staleWhileRevalidate(event, request, url));
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

async function staleWhileRevalidate(event, request, url) {
  // Stored without the ?v= query: the cache itself is per version.
  const cache = await caches.open(SHELL_CACHE);
  const key = url.pathname;
  const cached = await cache.match(key);
  const fresh = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(key, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(fresh.catch(() => undefined));
    return cached;
  }
  return fresh;
}
