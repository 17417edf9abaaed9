// /notifications: my inbox 消息, newest first. Unread ones stand out; tapping one marks it read
// and opens what it is about; "mark all read" clears the lot. The sentences come rendered in my
// language from the API (`text`).

import { api, isSignedIn, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { refreshInboxBadge, start } from "../shell.js";
import { $, busy, errorMessage, fill, formatDateTime, setQuotedText, showFailure, toast } from "../ui.js";

const PAGE_SIZE = 20;
let cursor = null;

start(async () => {
  if (!isSignedIn()) {
    showSignedOut();
    return;
  }
  $("[data-more]").addEventListener("click", () => more());
  $("[data-mark-all]").addEventListener("click", markAll);
  try {
    await load(true);
  } catch (error) {
    if (error instanceof SignedOut) showSignedOut();
    else showFailure(error);
    return;
  }
  $("[data-loading]").hidden = true;
  $("[data-inbox]").hidden = false;
});

function showSignedOut() {
  $("[data-loading]").hidden = true;
  $("[data-signed-out]").hidden = false;
}

async function load(fresh) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (!fresh && cursor) params.set("cursor", cursor);
  const page = await api("GET", `/notifications?${params}`, { keep: fresh });
  const list = $("[data-items]");
  const items = page.items.map(item);
  if (fresh) list.replaceChildren(...items);
  else list.append(...items);
  cursor = page.next_cursor;
  $("[data-more]").hidden = !cursor;
  $("[data-empty]").hidden = list.children.length > 0;
  showMarkAll();
}

async function more() {
  const button = $("[data-more]");
  busy(button, true);
  try {
    await load(false);
  } catch (error) {
    toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
  }
}

/** Where a notification leads: the issue it is about, or nowhere. */
export function targetOf(note) {
  const data = note.data || {};
  if (note.kind.startsWith("issue.") && note.community_id && data.issue_id) {
    // A merged report leads to the issue it joined, when the reader may see that one.
    const id = note.kind === "issue.merged" && data.into_id ? data.into_id : data.issue_id;
    return `/c/${encodeURIComponent(note.community_id)}/issues/${encodeURIComponent(id)}`;
  }
  return null;
}

function item(note) {
  const node = fill("tpl-note", { when: formatDateTime(note.created_at) });
  // The server wrote the sentence; what it quotes (a title, a community's name) is in note.data.
  const quotedValues = Object.entries(note.data || {})
    .filter(([key, value]) => typeof value === "string" && !/(^id|_id|_at|^status|^action)$/.test(key))
    .map(([, value]) => value);
  setQuotedText($('[data-slot="text"]', node), note.text, quotedValues);
  node.dataset.notification = note.id;
  setRead(node, note.read);
  const link = $("[data-link]", node);
  const target = targetOf(note);
  if (target) link.href = target;
  link.addEventListener("click", (event) => {
    if (node.dataset.read === "true") return; // already read: just follow the link
    event.preventDefault();
    open(node, target);
  });
  return node;
}

function setRead(node, read) {
  node.dataset.read = read ? "true" : "false";
  node.classList.toggle("is-unread", !read);
  $("[data-unread-badge]", node).hidden = read;
}

async function open(node, target) {
  try {
    const result = await api("POST", "/notifications/read", { body: { ids: [node.dataset.notification] } });
    setRead(node, true);
    await refreshInboxBadge(result.unread);
    showMarkAll();
  } catch (error) {
    if (!target) toast(errorMessage(error), "error");
  }
  if (target) window.location.assign(target);
}

function showMarkAll() {
  $("[data-mark-all]").hidden = !document.querySelector(".inbox-item.is-unread");
}

async function markAll() {
  const button = $("[data-mark-all]");
  busy(button, true);
  try {
    const result = await api("POST", "/notifications/read", { body: { all: true } });
    for (const node of document.querySelectorAll(".inbox-item")) setRead(node, true);
    await refreshInboxBadge(result.unread);
    toast(t("inbox.marked_all"));
  } catch (error) {
    toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
    showMarkAll();
  }
}
