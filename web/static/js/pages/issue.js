// /c/{cid}/issues/{id}: one issue — photos before and after, where it stands, who handles it
// by when, 我也关注, the share link and QR, what I may do now (allowed_actions), the public
// timeline and the comments.

import { api } from "../api.js";
import { t } from "../i18n.js";
import {
  actionLabel, actionPanel, categoryNode, choices, issuePath, photoPicker, showPhotos, statusBadges, statusLabel,
  tOr,
} from "../issues.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fill, formatDateTime, joinNodes,
  pageData, quoted, setSlots, showErrors, toast, tQuoted, wireShare,
} from "../ui.js";

const cid = cidOfPage();
const { issue_id: issueId } = pageData();
const base = communityPath(cid, `/issues/${encodeURIComponent(issueId)}`);
const ctx = { cid, choices: choices(cid) };
let handlers = new Map();
let buildings = new Map();
let commentCursor = null;

start(async () => {
  rememberCommunity(cid);
  const [issue, handlerRows, buildingRows] = await Promise.all([
    api("GET", base, { keep: true }),
    api("GET", communityPath(cid, "/handlers"), { keep: true }).catch(() => []),
    api("GET", communityPath(cid, "/buildings"), { keep: true }).catch(() => []),
  ]);
  handlers = new Map(handlerRows.map((h) => [h.id, h.name]));
  buildings = new Map(buildingRows.map((b) => [b.id, b.name]));
  wire();
  render(issue);
  await Promise.all([loadTimeline(), loadComments(true)]);
  $("[data-loading]").hidden = true;
  $("[data-issue]").hidden = false;
});

function wire() {
  $("[data-support]").addEventListener("click", toggleSupport);
  $("[data-follow]").addEventListener("click", toggleFollow);
  wireShare(`${base}/share`, $("[data-copy]"));
  $("[data-comments-more]").addEventListener("click", () => loadComments(false).catch((e) => toast(errorMessage(e), "error")));
  const form = $("[data-comment-form]");
  const picker = photoPicker($("[data-photo-slot]", form), cid, { max: 3 });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    comment(form, picker);
  });
}

function render(issue) {
  document.title = `${issue.title} · ${t("ui.app.name")}`;
  const root = $("[data-issue]");
  root.dataset.status = issue.status;
  $("[data-badges]", root).replaceChildren(...statusBadges(issue));
  // Plain words first; the coordinates only for whoever opens the fold.
  const located = issue.lat !== null && issue.lat !== undefined;
  const where = [buildings.get(issue.building_id), issue.location_text].filter(Boolean).map(quoted);
  if (located) where.push(t("ui.issue.gps_plain"));
  setSlots(root, {
    title: issue.title,
    byline: tQuoted("ui.issue.byline", { who: issue.reporter_name ? quoted(issue.reporter_name)
      : t("ui.issue.anonymous"), when: formatDateTime(issue.created_at) }),
    description: issue.description,
    category: categoryNode(issue.category),
    location: where.length ? joinNodes(where) : t("ui.issue.none"),
    gps: located ? t("ui.issue.gps", { lat: issue.lat, lng: issue.lng }) : "",
    handler: handlers.has(issue.handler_id) ? quoted(handlers.get(issue.handler_id)) : t("ui.issue.none"),
    deadline: issue.deadline_at ? formatDateTime(issue.deadline_at) : t("ui.issue.none"),
    source: tOr(`ui.issue.source.${issue.source}`, issue.source),
    resolution: issue.resolution_note,
  });
  $('[data-slot="description"]', root).hidden = !issue.description;
  $("[data-gps]", root).hidden = !located;
  showPhotos($("[data-photos]", root), issue.photos.filter((p) => p.kind === "report"));
  const after = issue.photos.filter((p) => p.kind === "after");
  showPhotos($("[data-after-photos]", root), after);
  $("[data-resolution]", root).hidden = !(after.length || issue.resolution_note);
  const merged = $("[data-merged]", root);
  merged.hidden = !issue.merged_into_id;
  if (issue.merged_into_id) $("[data-merged-link]", merged).href = issuePath(cid, issue.merged_into_id);
  renderSupport(issue.supported_by_me, issue.supports_count);
  renderFollow(Boolean(issue.following));
  $("[data-share]", root).hidden = issue.staff_only;

  const section = $("[data-actions-section]");
  section.hidden = issue.allowed_actions.length === 0;
  actionPanel($("[data-actions]"), issue, ctx, (updated) => {
    render(updated);
    loadTimeline().catch(() => undefined);
    section.scrollIntoView({ block: "start" });
  });
}

function renderSupport(on, count) {
  const button = $("[data-support]");
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.classList.toggle("btn--primary", on);
  $("[data-support-label]", button).textContent = t(on ? "ui.issue.supported" : "ui.issue.support");
  $("[data-support-count]", button).textContent = String(count);
}

async function toggleSupport() {
  const button = $("[data-support]");
  const on = button.getAttribute("aria-pressed") !== "true";
  busy(button, true);
  try {
    const state = await api(on ? "POST" : "DELETE", `${base}/support`);
    renderSupport(state.supported, state.supports_count);
    if (state.supported) renderFollow(true); // supporting follows the issue as well
  } catch (error) {
    toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
  }
}

function renderFollow(on) {
  const button = $("[data-follow]");
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.classList.toggle("btn--primary", on);
  $("[data-follow-label]", button).textContent = t(on ? "inbox.following" : "inbox.follow");
}

/** 关注: hear of every change in the inbox (我也关注 follows too; this follows without supporting). */
async function toggleFollow() {
  const button = $("[data-follow]");
  const on = button.getAttribute("aria-pressed") !== "true";
  busy(button, true);
  try {
    const state = await api(on ? "POST" : "DELETE", `${base}/follow`);
    renderFollow(state.following);
    toast(t(state.following ? "inbox.follow_on" : "inbox.follow_off"));
  } catch (error) {
    toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
  }
}

function eventText(event) {
  let what = tOr(`ui.issue.event.${event.action}`, actionLabel(event.action));
  if (event.action === "escalate") {
    what = tOr(`ui.issue.event.escalate_${event.data.reason}`, what);
  }
  // Most steps name their new state already; a re-route may also send the work back.
  if (event.action === "reroute" && event.to_status && event.to_status !== event.from_status) {
    what = `${what} → ${statusLabel(event.to_status)}`;
  }
  return what;
}

async function loadTimeline() {
  const events = await api("GET", `${base}/timeline`, { keep: true });
  $("[data-timeline]").replaceChildren(...events.map((event) => {
    const node = fill("tpl-event", {
      what: eventText(event),
      who: joinNodes([event.actor_name ? quoted(event.actor_name) : t(event.actor_name === null
        && event.action === "escalate" ? "ui.issue.system" : "ui.issue.anonymous"), formatDateTime(event.created_at)]),
      note: joinNodes([event.note ? quoted(event.note) : "", event.data && event.data.deadline_at
        ? t("ui.issue.due", { when: formatDateTime(event.data.deadline_at) }) : "",
      event.data && event.data.handler_id && handlers.get(event.data.handler_id)
        ? tQuoted("ui.issue.to_handler", { name: quoted(handlers.get(event.data.handler_id)) }) : ""]),
    });
    node.dataset.event = event.action;
    return node;
  }));
}

async function loadComments(fresh) {
  const params = new URLSearchParams({ limit: "20" });
  if (!fresh && commentCursor) params.set("cursor", commentCursor);
  const page = await api("GET", `${base}/comments?${params}`, { keep: fresh });
  const list = $("[data-comments]");
  const cards = page.items.map(commentCard);
  if (fresh) list.replaceChildren(...cards);
  else list.append(...cards);
  commentCursor = page.next_cursor;
  $("[data-comments-more]").hidden = !commentCursor;
  $("[data-comments-empty]").hidden = list.children.length > 0;
}

function commentCard(c) {
  const card = fill("tpl-comment", {
    who: joinNodes([c.author_name ? quoted(c.author_name) : t("ui.issue.anonymous"), formatDateTime(c.created_at)]),
    body: c.body,
  });
  showPhotos($("[data-photos]", card), c.photos);
  return card;
}

async function comment(form, picker) {
  clearErrors(form);
  const body = form.elements.body.value.trim();
  if (!body) {
    fieldError(form, "body", t("ui.issue.comment_missing"));
    return;
  }
  if (picker.uploading()) {
    toast(t("ui.photos.wait"), "error");
    return;
  }
  const submit = $('[type="submit"]', form);
  busy(submit, true);
  try {
    const made = await api("POST", `${base}/comments`, { body: { body, photo_ids: picker.ids() } });
    $("[data-comments]").append(commentCard(made));
    $("[data-comments-empty]").hidden = true;
    form.reset();
    picker.reset();
  } catch (error) {
    showErrors(form, error);
  } finally {
    busy(submit, false);
  }
}
