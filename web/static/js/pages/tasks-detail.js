// /c/{cid}/tasks/{id}: one task — what, when, where, the reward, who is needed; share it to
// recruit in a WeChat group (link, QR, poster). My part: claim, check in on site (type the code
// or scan the QR; a QR's link opens this page with ?checkin=CODE), hand in photos, a note and
// hours, and my claim's state in words. A facilitator claims and acts for a resident; the
// organiser publishes, starts, finishes or cancels, shows the check-in code, marks attendance and
// verifies or rejects what was handed in. Claims, check-ins and evidence go through the offline
// write queue (one Idempotency-Key each), as reports and ballots do.

import { api, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { photoPicker } from "../issues.js";
import { FilesNeedStorage, onQueueChange, submitWrite } from "../queue.js";
import { canScan, codeFrom, scanInto } from "../scan.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, $$, busy, can, cidOfPage, clearErrors, communityPath, confirmTap, errorMessage, fieldError, fill,
  formatDateTime, goSignIn, pageData, setSlots, showErrors, toast, wireShare,
} from "../ui.js";
import {
  amountText, apiTaskPath, claimBadge, claimSentence, claimSteps, claimTone, peopleText,
  personIdOf, personPicker, placeText, rewardOf, rewardPill, showPhotos, taskBadges, tOr, whenText,
} from "./tasks-parts.js";

const cid = cidOfPage();
const { task_id: taskId, permissions } = pageData();
const base = apiTaskPath(cid, taskId);
let task = null;
let roles = [];
let buildings = new Map();
let evidencePicker = null;
let forPicker = null;
let forPerson = null;
let forClaims = [];
const scannedCode = new URLSearchParams(window.location.search).get("checkin") || "";

// Task steps the organiser takes, in the order the buttons show, and those that need a reason.
const TASK_ACTIONS = ["publish", "approve", "start", "finish", "cancel"];
const CLAIM_ACTIONS = ["checkin", "verify", "reject", "no_show"];

start(async () => {
  rememberCommunity(cid);
  const [community, loaded, buildingRows] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", base, { keep: true }),
    api("GET", communityPath(cid, "/buildings"), { keep: true }).catch(() => []),
  ]);
  roles = community.my_roles;
  buildings = new Map(buildingRows.map((b) => [b.id, b.name]));
  wire();
  await render(loaded);
  $("[data-loading]").hidden = true;
  $("[data-task]").hidden = false;
  if (scannedCode) arriveWithCode();
  onQueueChange(() => {
    // A queued claim, check-in or evidence went out: show what the server says now.
    refresh().catch(() => undefined);
  });
});

function wire() {
  wireShare(`${base}/share`, $("[data-copy]"));
  $("[data-claim]").addEventListener("click", () => claim(null));
  const checkin = $("[data-checkin-form]");
  checkin.addEventListener("submit", (event) => {
    event.preventDefault();
    checkIn(checkin);
  });
  const scan = $("[data-scan]");
  scan.hidden = !canScan();
  scan.addEventListener("click", async () => {
    const text = await scanInto($("[data-scanner-slot]"));
    if (!text) return;
    checkin.elements.code.value = codeFrom(text);
    checkIn(checkin);
  });
  const evidence = $("[data-evidence-form]");
  evidencePicker = photoPicker($("[data-photo-slot]", evidence), cid, { keep: true });
  evidence.addEventListener("submit", (event) => {
    event.preventDefault();
    submitEvidence(evidence);
  });
  const reasonForm = $("[data-reason-form]");
  reasonForm.addEventListener("submit", (event) => {
    event.preventDefault();
    taskStep("cancel", reasonForm);
  });
  $("[data-reason-close]").addEventListener("click", () => {
    reasonForm.hidden = true;
  });
  $("[data-for-claim]").addEventListener("click", () => claim(forPerson));
  const handover = $("[data-handover-form]");
  handover.addEventListener("submit", (event) => {
    event.preventDefault();
    handOver(handover);
  });
}

async function refresh() {
  await render(await api("GET", base, { keep: true }));
}

async function render(loaded) {
  task = loaded;
  document.title = `${task.title} · ${t("ui.app.name")}`;
  const root = $("[data-task]");
  root.dataset.status = task.status;
  root.dataset.kind = task.kind;
  $("[data-badges]", root).replaceChildren(...taskBadges(task));
  setSlots(root, {
    title: task.title,
    byline: t("tasks.detail.byline", { who: task.created_by_name || task.organiser_name || t("tasks.detail.someone"),
      when: formatDateTime(task.created_at) }),
    description: task.description,
    when: whenText(task),
    where: placeText(task, buildings) || t("tasks.detail.nowhere"),
    people: peopleText(task),
    every: task.checkin_every_days ? t("tasks.detail.every_days", { n: task.checkin_every_days }) : "",
    wisher: task.for_person_name || "",
    evidence: t(task.evidence_required ? "tasks.detail.evidence_yes" : "tasks.detail.evidence_no"),
    who_may: whoMay(task),
    organiser: (task.organiser_names || [task.organiser_name]).filter(Boolean).join("、") || t("tasks.detail.someone"),
  });
  $('[data-slot="description"]', root).hidden = !task.description;
  $("[data-reward]", root).replaceChildren(rewardPill(task));
  for (const row of $$('[data-row="every"]', root)) row.hidden = !task.checkin_every_days;
  for (const row of $$('[data-row="wisher"]', root)) row.hidden = !task.for_person_name;
  const fillShare = task.people_needed ? Math.min(100, (100 * (task.claimed_count || 0)) / task.people_needed) : 0;
  $("[data-people-fill]", root).style.width = `${fillShare}%`;
  showPhotos($("[data-photos]", root), task.photos || []);
  const cancelled = $("[data-cancelled]", root);
  cancelled.hidden = task.status !== "cancelled";
  cancelled.textContent = task.cancel_reason ? t("tasks.detail.cancelled_reason", { reason: task.cancel_reason })
    : t("tasks.detail.cancelled");
  $("[data-share-row]").hidden = task.status === "draft" || task.status === "pending";
  $('[data-slot="evidence"]', root).dataset.required = task.evidence_required ? "yes" : "no";
  renderMine();
  renderFor();
  await renderOrganiser();
}

function whoMay(task) {
  const scope = task.eligibility || task.who_may || null;
  if (!scope || !scope.type || scope.type === "community") return t("tasks.who.community");
  return t(`tasks.who.${scope.type}`, { name: scope.name || "" });
}

// ---- my part ---------------------------------------------------------------------------------

function actions(thing) {
  return thing.allowed_actions || [];
}

function renderMine() {
  const section = $("[data-mine-section]");
  const claim = task.my_claim;
  const canClaim = actions(task).includes("claim");
  section.hidden = !claim && !canClaim && task.kind !== "wish" && !actions(task).includes("confirm");
  const state = $("[data-claim-state]");
  const steps = $("[data-steps]");
  $("[data-claim]").hidden = !canClaim || Boolean(claim && !["withdrawn", "expired"].includes(claim.status));
  $("[data-claim]").textContent = t(task.kind === "adoption" ? "tasks.do.adopt" : task.kind === "wish"
    ? "tasks.do.take_wish" : "tasks.do.claim");
  const note = $("[data-claim-note]");
  note.hidden = true;
  if (claim) {
    state.textContent = claimSentence(claim, task);
    state.dataset.tone = claimTone(claim);
    state.dataset.claimStatus = claim.status;
    claimSteps(steps, claim);
    steps.hidden = task.kind === "adoption";
  } else {
    state.textContent = canClaim ? t("tasks.claim.say.none", { reward: amountText(rewardOf(task).unit,
      rewardOf(task).amount) }) : closedReason();
    state.dataset.tone = "";
    delete state.dataset.claimStatus;
    steps.hidden = true;
  }
  const mine = claim ? actions(claim) : [];
  $("[data-checkin-form]").hidden = !mine.includes("checkin");
  if (mine.includes("checkin") && task.kind === "adoption") {
    $('[type="submit"]', $("[data-checkin-form]")).textContent = t("tasks.do.adoption_checkin");
  }
  const evidence = $("[data-evidence-form]");
  evidence.hidden = !mine.includes("submit");
  $("[data-hours-field]", evidence).hidden = rewardOf(task).unit !== "hours" && task.kind !== "volunteer";
  $("[data-evidence-title]", evidence).textContent = t(task.evidence_required ? "tasks.evidence.title_required"
    : "tasks.evidence.title");
  const row = $("[data-mine-actions]");
  row.replaceChildren();
  for (const action of ["withdraw", "renew", "hand_over"]) {
    if (!mine.includes(action)) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = action === "withdraw" ? "btn btn--danger" : "btn";
    button.dataset.do = action;
    button.textContent = t(`tasks.do.${action}`);
    if (action === "withdraw") {
      confirmTap(button, t("tasks.do.withdraw_sure"), () => claimStep(claim, "withdraw", {}, button));
    } else if (action === "hand_over") {
      button.addEventListener("click", () => openHandOver());
    } else {
      button.addEventListener("click", () => claimStep(claim, action, {}, button));
    }
    row.append(button);
  }
  // The wisher (or whoever posted the wish for them) confirms it came true.
  if (actions(task).includes("confirm")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn--primary";
    button.dataset.do = "confirm";
    button.textContent = t("tasks.do.confirm");
    button.addEventListener("click", () => taskStep("confirm", null, button));
    row.append(button);
    section.hidden = false;
    if (!claim) state.textContent = t("tasks.claim.say.wish_confirm");
  }
}

function closedReason() {
  if (task.status === "full") return t("tasks.claim.say.full");
  if (task.status === "cancelled") return t("tasks.claim.say.cancelled");
  if (task.status === "done") return t("tasks.claim.say.done");
  if (task.status === "draft" || task.status === "pending") return t("tasks.claim.say.not_open");
  return t("tasks.claim.say.not_for_me");
}

/** Claim for myself (person null) or for a resident (a facilitator), through the queue. */
async function claim(person) {
  const button = person ? $("[data-for-claim]") : $("[data-claim]");
  const errorBox = person ? $("[data-for-error]") : null;
  if (errorBox) errorBox.textContent = "";
  busy(button, true);
  const body = person ? { for_person_id: personIdOf(person) } : {};
  try {
    const result = await submitWrite("POST", `${base}/claims`, body, { label: "tasks.queue.claim" });
    if (result.status === "queued") {
      $("[data-queued]").hidden = false;
      toast(t("ui.queue.saved_offline"));
      return;
    }
    toast(t(person ? "tasks.for.claimed" : "tasks.claim.done", { name: person ? person.name : "" }));
    if (person) {
      forClaims = [result.response, ...forClaims.filter((c) => c.id !== result.response.id)];
      forPicker.reset();
    }
    await refresh();
  } catch (error) {
    if (error instanceof SignedOut) goSignIn();
    else if (errorBox) errorBox.textContent = errorMessage(error);
    else toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
    if (person) button.disabled = !forPerson;
  }
}

/** A claim's step through the queue; `form` shows the refusal under its fields. */
async function claimStep(claim, action, extra, control, form = null, files = []) {
  if (control) busy(control, true);
  const url = apiTaskPath(cid, taskId, `/claims/${encodeURIComponent(claim.id)}/transitions`);
  const options = { label: `tasks.queue.${action}` };
  if (files.length) options.attachments = { url: communityPath(cid, "/uploads"), field: "photo_ids", files };
  try {
    const result = await submitWrite("POST", url, { action, ...extra }, options);
    if (result.status === "queued") {
      $("[data-queued]").hidden = false;
      toast(t("ui.queue.saved_offline"));
      return null;
    }
    toast(t(`tasks.done.${action}`));
    await refresh();
    return result.response;
  } catch (error) {
    if (error instanceof FilesNeedStorage) toast(t("tasks.evidence.need_network"), "error");
    else if (form) showErrors(form, error);
    else if (error instanceof SignedOut) goSignIn();
    else toast(errorMessage(error), "error");
    return null;
  } finally {
    if (control) busy(control, false);
  }
}

async function checkIn(form, claim = task.my_claim) {
  clearErrors(form);
  const code = form.elements.code.value.trim().toUpperCase();
  if (!code) {
    fieldError(form, "code", t("tasks.checkin.missing"));
    return;
  }
  await claimStep(claim, "checkin", { code }, $('[type="submit"]', form), form);
}

/** Opened from the site's QR (its link carries ?checkin=CODE): the code is filled in for me. */
function arriveWithCode() {
  const form = $("[data-checkin-form]");
  history.replaceState(null, "", window.location.pathname);
  if (form.hidden) {
    if (!task.my_claim) toast(t("tasks.checkin.claim_first"), "error");
    return;
  }
  form.elements.code.value = codeFrom(scannedCode);
  form.scrollIntoView({ block: "center" });
  checkIn(form);
}

async function submitEvidence(form, claim = task.my_claim, picker = evidencePicker) {
  clearErrors(form);
  if (picker.uploading()) {
    fieldError(form, "photo_ids", t("ui.photos.wait"));
    return;
  }
  const note = form.elements.note.value.trim();
  const hoursField = form.elements.hours;
  const hours = hoursField && hoursField.value ? Number(hoursField.value) : null;
  const photos = picker.ids();
  const kept = picker.files();
  if (task.evidence_required && photos.length + kept.length === 0) {
    fieldError(form, "photo_ids", t("tasks.evidence.photo_missing"));
    return;
  }
  if (hours !== null && (!Number.isFinite(hours) || hours < 0 || hours > 24)) {
    fieldError(form, "minutes", t("tasks.evidence.hours_bad"));
    return;
  }
  const body = { photo_ids: photos };
  if (note) body.note = note;
  if (hours !== null) body.minutes = Math.round(hours * 60);
  const done = await claimStep(claim, "submit", body, $('[type="submit"]', form), form, kept);
  if (done) {
    form.reset();
    picker.reset();
  }
}

let handoverPicker = null;
let handoverTo = null;

function openHandOver() {
  const form = $("[data-handover-form]");
  form.hidden = false;
  if (!handoverPicker) {
    handoverPicker = personPicker($("[data-handover-slot]", form), cid, (member) => {
      handoverTo = member;
    }, buildings);
  }
  $("[data-person-q]", form).focus();
}

async function handOver(form) {
  clearErrors(form);
  if (!handoverTo) {
    $("[data-form-error]", form).textContent = t("tasks.handover.pick");
    return;
  }
  const done = await claimStep(task.my_claim, "hand_over", { to_person_id: personIdOf(handoverTo) },
    $('[type="submit"]', form), form);
  if (done) form.hidden = true;
}

// ---- acting for a resident ---------------------------------------------------------------------

function renderFor() {
  const section = $("[data-for-section]");
  const may = actions(task).includes("claim_for");
  section.hidden = !may && forClaims.length === 0;
  if (may && !forPicker) {
    forPicker = personPicker($("[data-for-picker]"), cid, (member) => {
      forPerson = member;
      $("[data-for-claim]").disabled = !member;
    }, buildings);
  }
  $("[data-for-picker]").hidden = !may;
  $("[data-for-claim]").hidden = !may;
  const claims = task.claims_for_others || forClaims;
  $("[data-for-claims]").replaceChildren(...claims.map((claim) => claimantCard(claim, { forOthers: true })));
}

// ---- the organiser's part ----------------------------------------------------------------------

async function renderOrganiser() {
  const section = $("[data-organiser-section]");
  const organiser = Boolean(task.is_organiser) || can(permissions, "tasks.manage", roles);
  section.hidden = !organiser;
  if (!organiser) return;
  const bar = $("[data-task-actions]");
  bar.replaceChildren();
  for (const action of TASK_ACTIONS) {
    if (!actions(task).includes(action)) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = action === "cancel" ? "btn btn--danger" : "btn btn--primary";
    button.dataset.do = action;
    button.textContent = t(`tasks.do.${action}`);
    button.addEventListener("click", () => {
      if (action === "cancel") {
        const form = $("[data-reason-form]");
        form.hidden = false;
        form.elements.reason.focus();
      } else {
        taskStep(action, null, button);
      }
    });
    bar.append(button);
  }
  if (actions(task).includes("edit")) {
    const edit = document.createElement("a");
    edit.className = "btn";
    edit.href = `/c/${encodeURIComponent(cid)}/tasks/${encodeURIComponent(task.id)}/edit`;
    edit.textContent = t("tasks.do.edit");
    bar.append(edit);
  }
  await Promise.all([showCode(), loadClaims()]);
}

async function taskStep(action, form, control = null) {
  const button = control || (form && $('[type="submit"]', form));
  const body = { action };
  if (form) {
    clearErrors(form);
    const reason = form.elements.reason.value.trim();
    if (!reason) {
      fieldError(form, "reason", t("tasks.org.reason_missing"));
      return;
    }
    body.reason = reason;
  }
  if (button) busy(button, true);
  try {
    const updated = await api("POST", `${base}/transitions`, { body });
    toast(t(`tasks.done.${action}`));
    if (form) form.hidden = true;
    await render(updated);
  } catch (error) {
    if (form) showErrors(form, error);
    else toast(errorMessage(error), "error");
  } finally {
    if (button) busy(button, false);
  }
}

async function showCode() {
  const box = $("[data-code-box]");
  box.hidden = true;
  if (!["open", "full", "in_progress"].includes(task.status) || task.kind === "wish") return;
  try {
    const code = await api("GET", `${base}/checkin-code`);
    $("[data-code]", box).textContent = code.code;
    const qr = $("[data-code-qr]", box);
    const url = code.qr_url || code.qr_svg_url || code.qr_png_url;
    qr.hidden = !url;
    if (url) qr.src = new URL(url, window.location.origin).pathname + new URL(url, window.location.origin).search;
    box.hidden = false;
  } catch {
    box.hidden = true; // not this person's to show (a committee member who does not organise it)
  }
}

async function loadClaims() {
  let page;
  try {
    page = await api("GET", `${base}/claims?limit=100`);
  } catch {
    $("[data-claims-title]").hidden = true;
    return;
  }
  const claims = Array.isArray(page) ? page : page.items;
  const counts = {};
  for (const claim of claims) counts[claim.status] = (counts[claim.status] || 0) + 1;
  $("[data-claims-summary]").textContent = Object.entries(counts)
    .map(([status, n]) => t("tasks.org.count", { label: tOr(`tasks.claim.status.${status}`, status), n })).join(" · ");
  $("[data-claims]").replaceChildren(...claims.map((claim) => claimantCard(claim, { organiser: true })));
  $("[data-claims-empty]").hidden = claims.length > 0;
}

/** One claim in the organiser's list (or a facilitator's): who, state, evidence, what may be done. */
function claimantCard(claim, { organiser = false, forOthers = false } = {}) {
  const meta = [];
  if (claim.acted_by_name && claim.acted_by_id !== claim.person_id) {
    meta.push(t("tasks.org.acted_by", { name: claim.acted_by_name }));
  }
  if (claim.checked_in_at) meta.push(t("tasks.org.checked_in_at", { when: formatDateTime(claim.checked_in_at) }));
  if (claim.minutes) meta.push(t("tasks.org.minutes", { hours: amountText("hours", claim.minutes) }));
  if (claim.auto_verified) meta.push(t("tasks.org.auto_verified"));
  if (claim.reason) meta.push(t("tasks.org.reason", { reason: claim.reason }));
  const card = fill("tpl-claimant", {
    name: claim.person_name || t("tasks.detail.someone"), meta: meta.join(" · "), evidence: claim.note || "",
  });
  card.dataset.claimId = claim.id;
  card.dataset.claimStatus = claim.status;
  $("[data-badge]", card).replaceChildren(claimBadge(claim));
  showPhotos($("[data-photos]", card), claim.photos || []);
  $('[data-slot="evidence"]', card).hidden = !claim.note;
  const bar = $("[data-claim-actions]", card);
  const slot = $("[data-claim-form]", card);
  const allowed = actions(claim);
  const wanted = forOthers ? ["checkin", "submit"] : CLAIM_ACTIONS;
  for (const action of wanted) {
    if (!allowed.includes(action)) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = action === "verify" || (action === "checkin" && organiser) ? "btn btn--primary btn--small"
      : action === "reject" || action === "no_show" ? "btn btn--danger btn--small" : "btn btn--small";
    button.dataset.do = action;
    button.textContent = t(organiser && action === "checkin" ? "tasks.do.mark_attendance" : `tasks.do.${action}`);
    button.addEventListener("click", () => claimantAction(claim, action, button, slot, organiser));
    bar.append(button);
  }
  bar.hidden = bar.children.length === 0;
  return card;
}

function claimantAction(claim, action, button, slot, organiser) {
  if (action === "reject") {
    const form = fill("tpl-reject-form");
    const label = $("[data-label-for]", form);
    const area = form.elements.reason;
    area.id = `reject-${claim.id}`;
    label.htmlFor = area.id;
    slot.replaceChildren(form);
    area.focus();
    $("[data-cancel]", form).addEventListener("click", () => slot.replaceChildren());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const reason = area.value.trim();
      if (!reason) {
        fieldError(form, "reason", t("tasks.org.reason_missing"));
        return;
      }
      await organiserStep(claim, "reject", { reason }, $('[type="submit"]', form), form);
    });
    return;
  }
  if (action === "checkin" && !organiser) {
    // A facilitator checks the resident in with the code on site, as the resident would.
    const form = fill("tpl-for-checkin");
    slot.replaceChildren(form);
    form.elements.code.focus();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      checkIn(form, claim);
    });
    return;
  }
  if (action === "submit") {
    const form = fill("tpl-for-evidence");
    slot.replaceChildren(form);
    const picker = photoPicker($("[data-photo-slot]", form), cid, { keep: true });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitEvidence(form, claim, picker);
    });
    return;
  }
  organiserStep(claim, action, {}, button);
}

/** The organiser's steps go straight to the server (they are at a desk, not on a muddy path). */
async function organiserStep(claim, action, extra, button, form = null) {
  busy(button, true);
  try {
    await api("POST", apiTaskPath(cid, taskId, `/claims/${encodeURIComponent(claim.id)}/transitions`),
      { body: { action, ...extra } });
    toast(t(`tasks.done.${action}`, { name: claim.person_name || "" }));
    await refresh();
  } catch (error) {
    if (form) showErrors(form, error);
    else toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
  }
}

