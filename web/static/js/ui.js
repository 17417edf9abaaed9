// Small DOM helpers shared by the page modules: templates, toasts, errors, dates.
// Text goes in with textContent only; markup comes from the server-rendered <template>s.

import { ApiError, NetworkError, SignedOut, api } from "./api.js";
import { t } from "./i18n.js";
import { lang } from "./prefs.js";

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

/** Clone <template id=…> and put each slot's text into its [data-slot] elements. */
export function fill(templateId, slots = {}) {
  const node = document.getElementById(templateId).content.firstElementChild.cloneNode(true);
  setSlots(node, slots);
  return node;
}

/** Put each slot's value in: text, or nodes (tQuoted, joinNodes) that mark what people wrote. */
export function setSlots(root, slots) {
  for (const [name, value] of Object.entries(slots)) {
    for (const element of $$(`[data-slot="${name}"]`, root)) {
      if (value instanceof Node) element.replaceChildren(value.cloneNode(true));
      else element.textContent = value === null || value === undefined ? "" : String(value);
    }
  }
}

// User content: what people wrote and the names they gave (people, places, issues, polls) is
// shown as written, in whatever language it was written in. It is marked data-user-content, so a
// translation tool leaves it alone and the page crawl (tests/e2e/test_crawl.py) does not ask for
// it in English. A template marks a slot that holds only user content; a sentence that quotes some
// is built with tQuoted or joinNodes from quoted() parts.

/** One piece of user content, marked. */
export function quoted(text) {
  const span = document.createElement("span");
  span.dataset.userContent = "";
  span.textContent = text === null || text === undefined ? "" : String(text);
  return span;
}

/** t(key, params) as nodes: a parameter given as a node (quoted(name)) goes in as that node. */
export function tQuoted(key, params = {}) {
  const template = t(key);
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of template.matchAll(/\{(\w+)\}/g)) {
    fragment.append(template.slice(last, match.index));
    const value = params[match[1]];
    if (value === undefined) fragment.append(match[0]);
    else fragment.append(value instanceof Node ? value : String(value));
    last = match.index + match[0].length;
  }
  fragment.append(template.slice(last));
  return fragment;
}

/** Parts (text or nodes) joined by `separator`, as nodes; empty parts left out. */
export function joinNodes(parts, separator = " · ") {
  const fragment = document.createDocumentFragment();
  parts.filter((part) => part !== "" && part !== null && part !== undefined).forEach((part, i) => {
    if (i) fragment.append(separator);
    fragment.append(part);
  });
  return fragment;
}

/** A choice in a <select> that is user content (a building, a grid, an issue by its title). */
export function userOption(label, value) {
  const option = new Option(label, value);
  option.dataset.userContent = "";
  return option;
}

/**
 * A sentence the server wrote (a notification, an error) into `element`, marking where it quotes
 * `values` (the user content it was made from, which the answer also gives on its own).
 */
export function setQuotedText(element, text, values) {
  const wanted = values.filter((v) => typeof v === "string" && v.trim()).sort((a, b) => b.length - a.length);
  const fragment = document.createDocumentFragment();
  let rest = String(text);
  while (rest) {
    let at = -1;
    let found = "";
    for (const value of wanted) {
      const i = rest.indexOf(value);
      if (i !== -1 && (at === -1 || i < at)) {
        at = i;
        found = value;
      }
    }
    if (at === -1) {
      fragment.append(rest);
      break;
    }
    fragment.append(rest.slice(0, at), quoted(found));
    rest = rest.slice(at + found.length);
  }
  element.replaceChildren(fragment);
}

/** A word standing on its own as a label: its first letter capitalised, where the language has capitals. */
export function capitalised(text) {
  return text.charAt(0).toLocaleUpperCase(lang()) + text.slice(1);
}

export function badge(text, kind = "") {
  const element = document.createElement("span");
  element.className = kind ? `badge badge--${kind}` : "badge";
  element.textContent = text;
  return element;
}

export function roleChips(container, roles) {
  container.replaceChildren(...roles.map((role) => badge(t(`ui.role.${role}`), role === "committee" ? "info" : "")));
}

/** The page's server data from <script type="application/json" id="page-data">. */
export function pageData() {
  const node = document.getElementById("page-data");
  return node ? JSON.parse(node.textContent) : {};
}

export function can(permissions, permission, roles) {
  return (permissions[permission] || []).some((role) => roles.includes(role));
}

export function toast(message, kind = "info") {
  const region = $("[data-toasts]");
  const element = document.createElement("div");
  element.className = kind === "error" ? "toast toast--error" : "toast";
  element.textContent = message;
  region.append(element);
  setTimeout(() => element.remove(), kind === "error" ? 6000 : 3500);
}

/** A path on this site to come back to after signing in (never another site). */
export function safeNext(value) {
  return value && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") ? value : "/";
}

export function goSignIn() {
  const here = window.location.pathname + window.location.search;
  window.location.assign(`/login?next=${encodeURIComponent(here)}`);
}

export function errorMessage(error) {
  if (error instanceof NetworkError) return t("ui.error.network");
  if (error instanceof ApiError && (error.problem.detail || error.problem.title)) return error.message;
  return t("ui.error.generic");
}

export function clearErrors(form) {
  for (const slot of $$("[data-error-for]", form)) slot.textContent = "";
  for (const input of $$("[aria-invalid]", form)) input.removeAttribute("aria-invalid");
  const box = $("[data-form-error]", form);
  if (box) box.textContent = "";
}

/**
 * Mark one field as wrong with a message (client-side checks and server errors alike). The
 * message goes as soon as the field is edited; marking several, mark the first one last (focus).
 */
export function fieldError(form, name, message) {
  const slot = $(`[data-error-for="${name}"]`, form);
  const input = form.elements.namedItem(name);
  if (slot) slot.textContent = message;
  if (input && input.setAttribute) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
  forgetOnEdit(form);
  return Boolean(slot);
}

/** Mark every [name, message] pair at once (an empty submit shows all that is missing); true if any. */
export function fieldErrors(form, problems) {
  for (const [name, message] of problems.slice().reverse()) fieldError(form, name, message);
  return problems.length > 0;
}

// Once per form: editing a field takes its error away, and the form's own error box with the
// last of them. A field without a name (a photo picker's file input) clears the error slot
// nearest to it.
function forgetOnEdit(form) {
  if ("forgetsErrors" in form.dataset) return;
  form.dataset.forgetsErrors = "";
  const forget = (event) => {
    const target = event.target;
    let slot = null;
    if (target.name) {
      slot = $(`[data-error-for="${CSS.escape(target.name)}"]`, form);
      for (const input of $$(`[name="${CSS.escape(target.name)}"][aria-invalid]`, form)) {
        input.removeAttribute("aria-invalid");
      }
    } else {
      for (let box = target.parentElement; box && box !== form && !slot; box = box.parentElement) {
        slot = $("[data-error-for]", box);
      }
    }
    if (slot) slot.textContent = "";
    const box = $("[data-form-error]", form);
    if (box && !$("[aria-invalid]", form) && !$$("[data-error-for]", form).some((s) => s.textContent)) {
      box.textContent = "";
    }
  };
  form.addEventListener("input", forget);
  form.addEventListener("change", forget);
}

/**
 * Show a failed request on a form: each problem.errors[] item under its field (by the last
 * name in `loc`), the detail in the form's error box. Signed out → the sign-in page.
 */
export function showErrors(form, error) {
  clearErrors(form);
  if (error instanceof SignedOut) {
    goSignIn();
    return;
  }
  if (error instanceof ApiError) {
    for (const item of (error.problem.errors || []).slice().reverse()) {
      const name = (item.loc || []).filter((part) => typeof part === "string").pop();
      // Some rules report a message key rather than a sentence; the detail says it better.
      const message = item.msg && item.msg !== error.code ? item.msg : error.message;
      if (name) fieldError(form, name, message);
    }
  }
  const box = $("[data-form-error]", form);
  if (box) box.textContent = errorMessage(error);
}

/** A whole page could not load: say why in the shared failure block. */
export function showFailure(error) {
  if (error instanceof SignedOut) {
    goSignIn();
    return;
  }
  for (const loading of $$("[data-loading]")) loading.hidden = true;
  const block = $("[data-failure]");
  let title = t("ui.error.load_failed");
  if (error instanceof ApiError && error.status === 404) title = t("ui.missing.heading");
  if (error instanceof ApiError && error.status === 403) title = t("ui.error.forbidden");
  if (error instanceof ApiError && error.code === "join_pending") {
    title = t("ui.join.pending_title");
    // Nothing of the community is for them until the committee says yes: only the answer shows.
    for (const other of block.parentElement.children) if (other !== block) other.hidden = true;
  }
  $("[data-failure-title]", block).textContent = title;
  const problem = error instanceof ApiError ? error.problem : {};
  setQuotedText($("[data-failure-body]", block), errorMessage(error), [problem.community_name]);
  block.hidden = false;
}

export function busy(button, on) {
  button.disabled = on;
  button.setAttribute("aria-busy", on ? "true" : "false");
}

/** Run `action` on a second tap within a few seconds (a confirm dialog without the dialog). */
export function confirmTap(button, armedLabel, action) {
  const label = button.textContent;
  let timer = null;
  button.addEventListener("click", () => {
    if (!button.classList.contains("is-armed")) {
      button.classList.add("is-armed");
      button.textContent = armedLabel;
      timer = setTimeout(() => {
        button.classList.remove("is-armed");
        button.textContent = label;
      }, 4000);
      return;
    }
    clearTimeout(timer);
    button.classList.remove("is-armed");
    button.textContent = label;
    action();
  });
}

export function formatDateTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang(), {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  }).format(new Date(iso));
}

/** The path of a URL the API gave, so images load from this site (CSP: img-src 'self'). */
export function localPath(url) {
  const parsed = new URL(url, window.location.origin);
  return parsed.pathname + parsed.search;
}

// The share button of an object's page: its short link and QR code, made on first asking,
// shown in the page's [data-share-box], a button that copies the link, and 保存海报 (its
// poster, drawn by poster.js, loaded only when asked for).
export function wireShare(sharePath, copyButton) {
  let link = null;
  const button = $("[data-share]");
  const poster = $("[data-share-box] [data-poster]");
  if (poster) wirePoster(poster, $("[data-share-box] [data-poster-slot]"), () => link && link.code);
  button.addEventListener("click", async () => {
    busy(button, true);
    try {
      link = link || await api("POST", sharePath);
      const box = $("[data-share-box]");
      $("[data-share-url]", box).textContent = link.url;
      $("[data-share-qr]", box).src = localPath(link.qr_url);
      box.hidden = false;
    } catch (error) {
      toast(errorMessage(error), "error");
    } finally {
      busy(button, false);
    }
  });
  copyButton.addEventListener("click", async () => {
    if (link) toast(await copyText(link.url) ? t("ui.invites.copied") : t("ui.invites.copy_failed"));
  });
}

/** A 保存海报 button: the poster of the short link `codeOf()` names, shown in `slot`. */
export function wirePoster(button, slot, codeOf) {
  button.addEventListener("click", () => {
    const code = codeOf();
    if (!code) return;
    import("./poster.js").then((poster) => poster.showPoster(button, slot, code))
      .catch(() => toast(t("ui.error.network"), "error"));
  });
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // WeChat and plain http have no async clipboard: fall back to a selection.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

export function cidOfPage() {
  return document.body.dataset.cid;
}

export function communityPath(cid, rest = "") {
  return `/communities/${encodeURIComponent(cid)}${rest}`;
}

// A list the server pages with a cursor: [data-list] filled by `render`, [data-more] for the
// next page, [data-loading] and [data-empty] shown as they apply. load(true) starts afresh.
export function cursorList(path, render, { limit = 20 } = {}) {
  let cursor = null;
  return async function load(fresh) {
    const params = new URLSearchParams({ limit: String(limit) });
    if (!fresh && cursor) params.set("cursor", cursor);
    const more = $("[data-more]");
    busy(more, true);
    try {
      const page = await api("GET", `${path}?${params}`, { keep: fresh });
      const list = $("[data-list]");
      const cards = page.items.map(render);
      if (fresh) list.replaceChildren(...cards);
      else list.append(...cards);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      $("[data-loading]").hidden = true;
      $("[data-empty]").hidden = list.children.length > 0;
    } finally {
      busy(more, false);
    }
  };
}
