// What the issue pages share: status badges, the issue card, the photo picker (upload first,
// then send the ids), the action panel driven by the issue's allowed_actions, and a
// "load more" list. Text goes in with textContent only; markup comes from <template>s.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { canKeepFiles } from "./queue.js";
import {
  $, $$, busy, can, clearErrors, communityPath, errorMessage, fieldError, fill, formatDateTime, joinNodes, localPath,
  pageData, quoted, showErrors, toast, userOption,
} from "./ui.js";

export const MAX_PHOTOS = 9;
export const OPEN = ["reported", "accepted", "dispatched", "in_progress", "reopened"];
const STATUS_KIND = {
  reported: "warning", accepted: "info", dispatched: "info", in_progress: "primary", resolved: "success",
  reopened: "danger", closed: "", rejected: "", merged: "",
};

// What each action asks for, and which of those it cannot do without (app/issues/flows.py).
const FIELDS = {
  accept: ["note"], reject: ["reason"], merge: ["into", "reason"], dispatch: ["handler", "deadline", "note"],
  start: ["note"], resolve: ["photo", "note"], verify: ["note"], reopen: ["reason"],
  close_on_spot: ["photo", "note"], reroute: ["handler", "category", "reason"],
};
const NEEDS = {
  reject: ["reason"], merge: ["into"], dispatch: ["handler"], resolve: ["photo", "note"], reopen: ["reason"],
  close_on_spot: ["photo"], reroute: ["reason"],
};
const FIELD_NAME = { handler: "handler_id", category: "category_id", deadline: "deadline_at", photo: "photo_ids" };
const PRIMARY = new Set(["accept", "dispatch", "start", "resolve", "verify", "close_on_spot"]);
const DANGER = new Set(["reject", "reopen"]);

/** A translation that falls back to `fallback` when the catalogue lacks `key`. */
export function tOr(key, fallback, params = {}) {
  const text = t(key, params);
  return text === key ? fallback : text;
}

/** A category as shown: a default one (stored by its Chinese name) in the page's language, one the
 * committee made as it was typed (app/issues/service.py: category_label). */
export function categoryName(name) {
  return name ? tOr(`issue.category.${name}`, name) : "";
}

/** categoryName as a node: the committee's own categories marked as user content. */
export function categoryNode(name) {
  const text = categoryName(name);
  return text && text === name && t(`issue.category.${name}`) === `issue.category.${name}` ? quoted(text) : text;
}

/** A category as a choice in a <select>. */
export function categoryOption(category) {
  const label = categoryName(category.name);
  return label === category.name && t(`issue.category.${label}`) === `issue.category.${label}`
    ? userOption(label, category.id) : new Option(label, category.id);
}

export function statusLabel(status) {
  return tOr(`ui.issue.status.${status}`, status);
}

export function actionLabel(action) {
  return tOr(`ui.issue.action.${action}`, action);
}

function makeBadge(text, kind) {
  const element = document.createElement("span");
  element.className = kind ? `badge badge--${kind}` : "badge";
  element.textContent = text;
  return element;
}

/** The status badge and the 超期 / 督办 flags. */
export function statusBadges(issue) {
  const out = [makeBadge(statusLabel(issue.status), STATUS_KIND[issue.status] || "")];
  out[0].dataset.status = issue.status;
  if (issue.overdue) out.push(makeBadge(t("ui.issue.overdue"), "danger"));
  if (issue.escalated) {
    const flag = makeBadge(t("ui.issue.escalated"), "danger");
    flag.dataset.escalated = "";
    out.push(flag);
  }
  if (issue.staff_only) out.push(makeBadge(t("ui.issue.staff_only"), "info"));
  return out;
}

export function issuePath(cid, id) {
  return `/c/${encodeURIComponent(cid)}/issues/${encodeURIComponent(id)}`;
}

/** One issue in a list. With `ctx.actions`, a "办理" button opens its action panel in place. */
export function issueCard(issue, ctx) {
  const meta = [categoryNode(issue.category), t("ui.issue.supports", { count: issue.supports_count })];
  if (issue.deadline_at && OPEN.includes(issue.status)) {
    meta.push(t("ui.issue.due", { when: formatDateTime(issue.deadline_at) }));
  } else {
    meta.push(formatDateTime(issue.created_at));
  }
  const card = fill("tpl-issue-card", { title: issue.title, meta: joinNodes(meta) });
  card.dataset.issueId = issue.id;
  $("[data-link]", card).href = issuePath(ctx.cid, issue.id);
  $("[data-badges]", card).replaceChildren(...statusBadges(issue));
  const photo = issue.photos.find((p) => p.kind === "report");
  if (photo) {
    const thumb = $("[data-thumb]", card);
    thumb.src = localPath(photo.thumb_url);
    thumb.hidden = false;
  }
  if (ctx.actions) {
    const foot = $("[data-foot]", card);
    const open = $("[data-open-actions]", card);
    const panel = $("[data-card-actions]", card);
    foot.hidden = false;
    open.addEventListener("click", async () => {
      const show = panel.hidden;
      panel.hidden = !show;
      open.setAttribute("aria-expanded", show ? "true" : "false");
      if (!show) return;
      busy(open, true);
      try {
        const fresh = await api("GET", communityPath(ctx.cid, `/issues/${encodeURIComponent(issue.id)}`));
        actionPanel(panel, fresh, ctx, (updated) => {
          const next = issueCard(updated, ctx);
          card.replaceWith(next);
          if (ctx.onChanged) ctx.onChanged(updated, next);
        });
      } catch (error) {
        panel.textContent = errorMessage(error);
      } finally {
        busy(open, false);
      }
    });
  }
  return card;
}

// ---- photos ---------------------------------------------------------------------------------

/**
 * A picker in `slot`: camera or album, each picture uploaded at once and shown as a thumbnail
 * that can be removed. Pictures need the network; offline the picker says so — unless `keep`
 * is set and this phone can keep files in the write queue (IndexedDB): then a picture chosen
 * offline stays on the phone (`files()`), to be uploaded with the queued write.
 */
export function photoPicker(slot, cid, { max = MAX_PHOTOS, keep = false } = {}) {
  const root = fill("tpl-photo-picker");
  slot.replaceChildren(root);
  const thumbs = $("[data-thumbs]", root);
  const input = $("[data-file]", root);
  const add = $("[data-add]", root);
  const hint = $("[data-photo-hint]", root);
  const offline = $("[data-photo-offline]", root);
  const items = [];
  let uploading = 0;
  let keeping = false;

  const update = () => {
    const off = navigator.onLine === false;
    const blocked = off && !keeping;
    offline.hidden = !off;
    offline.classList.toggle("notice--warning", blocked);
    offline.classList.toggle("notice--info", !blocked);
    if (keeping) offline.textContent = t("report.photos.kept_offline");
    add.hidden = blocked || items.length >= max;
    input.disabled = blocked;
    hint.textContent = t("ui.photos.count", { count: items.length, max });
  };
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  if (keep) {
    canKeepFiles().then((yes) => {
      keeping = yes;
      update();
    }).catch(() => {});
  }

  const show = (item) => {
    items.push(item);
    const node = fill("tpl-photo-thumb");
    const url = URL.createObjectURL(item.file);
    $("[data-img]", node).src = url;
    thumbs.append(node);
    const drop = () => {
      const at = items.indexOf(item);
      if (at >= 0) items.splice(at, 1);
      node.remove();
      URL.revokeObjectURL(url);
      update();
    };
    $("[data-remove]", node).addEventListener("click", drop);
    update();
    return { node, drop };
  };

  const hold = (file) => {
    const { node } = show({ id: null, file, kept: true });
    node.dataset.kept = "";
    $("[data-busy]", node).textContent = t("report.photos.on_phone");
  };

  const upload = async (file) => {
    const item = { id: null, file, kept: false };
    const { node, drop } = show(item);
    uploading += 1;
    const form = new FormData();
    form.append("file", file, file.name || "photo.jpg");
    try {
      const saved = await api("POST", communityPath(cid, "/uploads"), { form });
      item.id = saved.id;
      node.dataset.uploaded = "";
      $("[data-busy]", node).hidden = true;
    } catch (error) {
      toast(errorMessage(error), "error");
      drop();
    } finally {
      uploading -= 1;
      update();
    }
  };

  input.addEventListener("change", () => {
    const files = Array.from(input.files || []);
    input.value = "";
    const room = max - items.length;
    if (files.length > room) toast(t("ui.photos.too_many", { max }), "error");
    for (const file of files.slice(0, Math.max(room, 0))) {
      if (keeping && navigator.onLine === false) hold(file);
      else upload(file);
    }
  });
  update();
  return {
    ids: () => items.filter((item) => item.id).map((item) => item.id),
    files: () => items.filter((item) => item.kept).map((item) => item.file),
    uploading: () => uploading > 0,
    reset: () => {
      items.length = 0;
      thumbs.replaceChildren();
      update();
    },
  };
}

/** Show pictures the API gave (report, after, comment) as thumbnails that open the full one. */
export function showPhotos(list, photos) {
  list.replaceChildren(...photos.map((photo, i) => {
    const node = fill("tpl-photo-view");
    $("[data-full]", node).href = localPath(photo.url);
    $("[data-full]", node).setAttribute("aria-label", t("ui.issue.photo_open", { n: i + 1 }));
    $("[data-img]", node).src = localPath(photo.thumb_url);
    return node;
  }));
  list.hidden = photos.length === 0;
}

// ---- the action panel -------------------------------------------------------------------------

let formSeq = 0;

/** Lazily loaded lists the action forms choose from. */
export function choices(cid) {
  const cache = {};
  const once = (name, load) => {
    if (!cache[name]) cache[name] = load().catch((error) => {
      delete cache[name];
      throw error;
    });
    return cache[name];
  };
  return {
    handlers: () => once("handlers", () => api("GET", communityPath(cid, "/handlers"), { keep: true })),
    categories: () => once("categories", () => api("GET", communityPath(cid, "/categories"), { keep: true })),
    openIssues: () => once("open", () => api("GET", `${communityPath(cid, "/issues")}?${new URLSearchParams({
      status: OPEN.join(","), limit: "50" })}`).then((page) => page.items)),
  };
}

/**
 * The buttons for what this person may do now (issue.allowed_actions), each opening the form
 * with the inputs that action needs. `done(updatedIssue)` runs after the server agrees.
 */
export function actionPanel(container, issue, ctx, done) {
  const actions = issue.allowed_actions || [];
  const bar = fill("tpl-action-buttons");
  const slot = document.createElement("div");
  for (const action of actions) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `btn${PRIMARY.has(action) ? " btn--primary" : ""}${DANGER.has(action) ? " btn--danger" : ""}`;
    button.dataset.action = action;
    button.textContent = actionLabel(action);
    button.addEventListener("click", () => {
      for (const other of $$("[data-action]", bar)) other.setAttribute("aria-pressed", other === button ? "true" : "false");
      openForm(slot, issue, action, ctx, done, () => {
        button.setAttribute("aria-pressed", "false");
        slot.replaceChildren();
      });
    });
    bar.append(button);
  }
  if (actions.length === 0) {
    const none = document.createElement("p");
    none.className = "card__meta";
    none.textContent = t("ui.issue.no_actions");
    bar.append(none);
  }
  container.replaceChildren(bar, slot);
}

async function openForm(slot, issue, action, ctx, done, close) {
  const form = fill("tpl-action-form", { heading: actionLabel(action), submit: actionLabel(action) });
  form.dataset.actionForm = action;
  formSeq += 1;
  for (const label of $$("[data-label-for]", form)) {
    const control = form.elements.namedItem(label.dataset.labelFor);
    control.id = `af${formSeq}-${label.dataset.labelFor}`;
    label.htmlFor = control.id;
  }
  const wanted = FIELDS[action] || [];
  const needs = NEEDS[action] || [];
  for (const box of $$("[data-field]", form)) {
    const name = box.dataset.field;
    box.hidden = !wanted.includes(name);
    const label = $(".field__label", box);
    if (!box.hidden && label && !needs.includes(name)) label.append(` ${t("ui.issue.field.optional")}`);
  }
  let picker = null;
  if (wanted.includes("photo")) picker = photoPicker($("[data-photo-slot]", form), ctx.cid, { max: MAX_PHOTOS });
  slot.replaceChildren(form);
  $("[data-cancel]", form).addEventListener("click", close);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitAction(form, issue, action, picker, needs, ctx, done);
  });
  try {
    if (wanted.includes("handler")) {
      const select = form.elements.handler_id;
      for (const h of await ctx.choices.handlers()) select.append(userOption(h.name, h.id));
      if (issue.handler_id) select.value = issue.handler_id;
    }
    if (wanted.includes("category")) {
      const select = form.elements.category_id;
      for (const c of await ctx.choices.categories()) select.append(categoryOption(c));
    }
    if (wanted.includes("into")) {
      const select = form.elements.into;
      for (const other of await ctx.choices.openIssues()) {
        if (other.id !== issue.id) select.append(userOption(other.title, other.id));
      }
    }
  } catch (error) {
    $("[data-form-error]", form).textContent = errorMessage(error);
  }
  const first = $("[data-field]:not([hidden]) select, [data-field]:not([hidden]) textarea", form);
  form.scrollIntoView({ block: "nearest" });
  if (first) first.focus({ preventScroll: true });
}

async function submitAction(form, issue, action, picker, needs, ctx, done) {
  clearErrors(form);
  const body = { action };
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
  if (value("reason")) body.reason = value("reason");
  if (value("note")) body.note = value("note");
  if (value("handler_id") && (action === "dispatch" || value("handler_id") !== issue.handler_id)) {
    body.handler_id = value("handler_id");
  }
  if (value("category_id")) body.category_id = value("category_id");
  if (value("into")) body.into = value("into");
  if (value("deadline_at")) body.deadline_at = `${value("deadline_at")}T23:59:00+08:00`;
  if (picker) {
    if (picker.uploading()) {
      fieldError(form, "photo_ids", t("ui.photos.wait"));
      return;
    }
    body.photo_ids = picker.ids();
  }
  const missing = needs.filter((need) => {
    if (need === "photo") return body.photo_ids.length === 0;
    if (need === "handler") return !value("handler_id");
    return !body[need];
  });
  if (action === "reroute" && !body.handler_id && !body.category_id) missing.push("handler");
  if (missing.length) {
    for (const need of missing.reverse()) {
      fieldError(form, FIELD_NAME[need] || need, t(`ui.issue.needs.${need}`));
    }
    return;
  }
  const submit = $('[type="submit"]', form);
  busy(submit, true);
  try {
    const updated = await api("POST", communityPath(ctx.cid, `/issues/${encodeURIComponent(issue.id)}/transitions`),
      { body });
    toast(t("ui.issue.done", { action: actionLabel(action) }));
    done(updated);
  } catch (error) {
    showErrors(form, error);
    busy(submit, false);
  }
}

// ---- lists ----------------------------------------------------------------------------------

/**
 * A list that loads 20 at a time: `load(params)` replaces it, the "load more" button appends.
 * `query()` gives the current filters as URLSearchParams.
 */
export function pagedList(cid, query, ctx) {
  const list = $("[data-list]");
  const more = $("[data-more]");
  const empty = $("[data-empty]");
  const loading = $("[data-loading]");
  let cursor = null;
  let generation = 0;

  // A step taken in place (dispatch on the 待受理 tab) can take the issue out of what this list
  // shows: its card leaves at once rather than staying under the wrong heading.
  const changed = ctx.onChanged;
  ctx.onChanged = (issue, card) => {
    if (changed) changed(issue, card);
    if (!shows(query(), issue)) {
      card.remove();
      empty.hidden = list.children.length > 0;
    }
  };

  const load = async (fresh) => {
    const mine = ++generation;
    const params = query();
    params.set("limit", "20");
    if (!fresh && cursor) params.set("cursor", cursor);
    busy(more, true);
    if (fresh) loading.hidden = false;
    try {
      const page = await api("GET", `${communityPath(cid, "/issues")}?${params}`, { keep: fresh });
      if (mine !== generation) return;
      const cards = page.items.map((issue) => issueCard(issue, ctx));
      if (fresh) list.replaceChildren(...cards);
      else list.append(...cards);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      empty.hidden = list.children.length > 0;
    } finally {
      loading.hidden = true;
      busy(more, false);
    }
  };
  more.addEventListener("click", () => load(false).catch((error) => toast(errorMessage(error), "error")));
  return { load };
}

/** Whether an issue still belongs in a list under these filters (those a changed issue can leave). */
function shows(params, issue) {
  const statuses = params.get("status");
  if (statuses && !statuses.split(",").includes(issue.status)) return false;
  return params.get("overdue") !== "true" || Boolean(issue.overdue);
}

/**
 * Staff pages (受理分派, 网格巡查, 我的待办) opened by someone without `permission` here, by a link
 * or a typed URL: say what the page is for and where to go, instead of buttons that then fail.
 * True when the caller may use the page.
 */
export async function staffOnly(cid, permission) {
  const community = await api("GET", communityPath(cid), { keep: true });
  if (can(pageData().permissions, permission, community.my_roles)) return true;
  for (const element of $("#main").children) {
    if (element.tagName !== "TEMPLATE") element.hidden = !element.matches("[data-staff-only]");
  }
  return false;
}

/** Switch [data-tab] buttons; `change(name)` runs on each switch. */
export function tabs(change) {
  const buttons = $$("[data-tab]");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-selected", other === button ? "true" : "false");
      change(button.dataset.tab);
    });
  }
  const chosen = buttons.find((b) => b.getAttribute("aria-selected") === "true") || buttons[0];
  return chosen ? chosen.dataset.tab : null;
}
