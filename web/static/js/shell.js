// What every page does before its own module runs: preferences, strings, the service worker
// (never inside WeChat), the offline bar, the queued-writes badge, the inbox's unread count and
// the community tab.

import { api, isSignedIn } from "./api.js";
import { loadStrings, t } from "./i18n.js";
import { syncPrefs } from "./prefs.js";
import { listWrites, onQueueChange, startQueue } from "./queue.js";
import { $, showFailure, toast } from "./ui.js";

export const CURRENT_COMMUNITY = "wg_cid";

/**
 * Boot the shell, then run the page's `main`. Controls that do nothing without the page's
 * module come disabled from the server ([data-needs-js]): a tap before the module has
 * wired them must not submit a form the old way (a sign-in code would land in the URL).
 * They are enabled when `main` has finished.
 */
export function start(main) {
  if (syncPrefs()) {
    window.location.reload();
    return;
  }
  loadStrings()
    .then(() => {
      registerServiceWorker();
      watchNetwork();
      watchQueue();
      watchInbox();
      showCommunityTab();
      startQueue();
      return main();
    })
    .then(() => {
      for (const control of document.querySelectorAll("[data-needs-js]")) control.disabled = false;
    })
    .catch(showFailure)
    .finally(() => {
      // The first drawing is done, or its failure shown (the browser tests wait for this).
      document.documentElement.dataset.ready = "";
    });
}

function registerServiceWorker() {
  // WeChat's in-app browser handles service workers badly; everything works without one.
  if (!("serviceWorker" in navigator) || /MicroMessenger/i.test(navigator.userAgent)) return;
  const version = document.documentElement.dataset.v || "";
  navigator.serviceWorker.register(`/sw.js?v=${encodeURIComponent(version)}`, { scope: "/" }).catch(() => {
    // Not fatal: the pages never depend on the worker.
  });
}

function watchNetwork() {
  const bar = $("[data-netbar]");
  const update = () => {
    bar.hidden = navigator.onLine !== false;
  };
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
  let told = false;
  window.addEventListener("wg:stale", () => {
    if (told) return;
    told = true;
    toast(t("ui.net.stale"));
  });
}

function watchQueue() {
  const badgeLink = $("[data-queue-badge]");
  const count = $("[data-queue-count]");
  const update = async () => {
    const waiting = (await listWrites()).filter((item) => item.status !== "sent").length;
    count.textContent = String(waiting);
    badgeLink.hidden = waiting === 0;
    badgeLink.setAttribute("aria-label", t("ui.queue.badge", { count: waiting }));
  };
  onQueueChange(update);
  update();
}

const INBOX_EVERY_MS = 60_000;

/** The unread count on the top bar's inbox link: on load, then each minute while the page is seen. */
function watchInbox() {
  if (!isSignedIn()) return; // signed out: the link stays, with no badge
  let timer = null;
  const tick = () => {
    refreshInboxBadge();
  };
  const schedule = () => {
    clearInterval(timer);
    timer = null;
    if (document.visibilityState === "visible") timer = setInterval(tick, INBOX_EVERY_MS);
  };
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") tick();
    schedule();
  });
  tick();
  schedule();
}

/** Ask the server for the unread count (or take the one given) and show it on the top bar. */
export async function refreshInboxBadge(known = null) {
  let unread = known;
  if (unread === null) {
    if (!isSignedIn()) return;
    try {
      unread = (await api("GET", "/notifications/unread-count")).unread;
    } catch {
      return; // offline or signed out: keep what is shown
    }
  }
  const link = $("[data-inbox-link]");
  const count = $("[data-inbox-count]");
  if (!link || !count) return;
  count.textContent = unread > 99 ? "99+" : String(unread);
  count.hidden = !unread;
  link.setAttribute("aria-label", unread ? t("inbox.link_unread", { count: unread }) : t("inbox.link"));
}

function showCommunityTab() {
  let cid = null;
  try {
    cid = localStorage.getItem(CURRENT_COMMUNITY);
  } catch {
    cid = null;
  }
  if (cid) pointCommunityTab(cid);
}

function pointCommunityTab(cid) {
  const link = $("[data-nav-community]");
  if (document.body.dataset.cid) return; // a community's own pages point it at that community
  link.href = `/c/${encodeURIComponent(cid)}`;
  link.hidden = false;
}

/** The community the bottom tab opens: the one last visited or made current. */
export function rememberCommunity(cid) {
  try {
    localStorage.setItem(CURRENT_COMMUNITY, cid);
  } catch {
    // Only the bottom tab needs it.
  }
  pointCommunityTab(cid);
}
