// /c/{cid}/tasks/{id}: one task — what, when, where, the reward, who is needed; share it to
// recruit in a WeChat group (link, QR, poster). My part: claim, check in on site (type the code
// or scan the QR: the site's QR opens /tasks/{id}/checkin?code=…, this page with the code filled
// in), hand in photos, a note and hours, and my claim's state in words. A facilitator claims and
// acts for a resident without a phone. The organiser (and the
// one a wish is for) publishes, starts, finishes or cancels, shows the check-in code and QR, marks
// attendance and verifies or rejects what was handed in. Claims, check-ins and evidence go
// through the offline write queue (one Idempotency-Key each), as reports and ballots do.

import { api, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { photoPicker } from "../issues.js";
import { FilesNeedStorage, listWrites, onQueueChange, submitWrite } from "../queue.js";
import { canScan, codeFrom, scanInto } from "../scan.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, $$, busy, can, cidOfPage, clearErrors, communityPath, confirmTap, errorMessage, fieldError, fill,
  formatDateTime, goSignIn, pageData, setSlots, showErrors, toast, wireShare,
} from "../ui.js";
import {
  amountText, apiTaskPath, claimBadge, claimSentence, claimSteps, claimTone, peopleText, personIdOf, personPicker,
  joinNodes, placeText, putSlots, quoted, refusalText, rewardOf, rewardPill, showPhotos, taskBadges, tQuoted,
  whenText, whoMayText,
} from "./tasks-parts.js";

const cid = cidOfPage();
const { task_id: taskId, permissions, focus } = pageData();
const base = apiTaskPath(cid, taskId);
const query = new URLSearchParams(window.location.search);
const arrivedCode = query.get("code") || query.get("checkin") || "";
let task = null;
let roles = [];
let buildings = new Map();
let grids = new Map();
let evidencePicker = null;
let checkinPicker = null;
let forPicker = null;
let forPerson = null;
let codeTimer = null;

// The organiser's task steps, in the order the buttons show.
const TASK_ACTIONS = ["publish", "approve", "start", "finish", "cancel"];
const PRIMARY_CLAIM = new Set(["verify", "confirm", "checkin"]);
const DANGER_CLAIM = new Set(["reject", "no_show"]);

start(async () => {
  rememberCommunity(cid);
  const [community, loaded, buildingRows, gridRows] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", base, { keep: true }),
    api("GET", communityPath(cid, "/buildings"), { keep: true }).catch(() => []),
    api("GET", communityPath(cid, "/grids"), { keep: true }).catch(() => []),
  ]);
  roles = community.my_roles;
  buildings = new Map(buildingRows.map((b) => [b.id, b.name]));
  grids = new Map(gridRows.map((g) => [g.id, g.name]));
  wire();
  await render(loaded);
  $("[data-loading]").hidden = true;
  $("[data-task]").hidden = false;
  if (arrivedCode) arriveWithCode();
  else if (focus === "console") $("[data-organiser-section]").scrollIntoView({ block: "start" });
  onQueueChange(() => {
    // A queued claim, check-in or evidence went out: show what the server says now.
    refresh().catch(() => undefined);
  });
});

function wire() {
  wireShare(`${base}/share`, $("[data-copy]"));
  $("[data-claim]").addEventListener("click", () => claim(null));
  const checkin = $("[data-checkin-form]");
  checkinPicker = photoPicker($("[data-checkin-photo-slot]", checkin), cid, { max: 3, keep: true });
  checkin.addEventListener("submit", (event) => {
    event.preventDefault();
    checkIn(checkin, task.my_claim);
  });
  const scan = $("[data-scan]");
  scan.addEventListener("click", async () => {
    const text = await scanInto($("[data-scanner-slot]"));
    if (!text) return;
    checkin.elements.code.value = codeFrom(text);
    checkIn(checkin, task.my_claim);
  });
  const evidence = $("[data-evidence-form]");
  evidencePicker = photoPicker($("[data-photo-slot]", evidence), cid, { keep: true });
  evidence.addEventListener("submit", (event) => {
    event.preventDefault();
    submitEvidence(evidence, task.my_claim, evidencePicker);
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
  const poster = task.requester && task.created_by && task.requester.id !== task.created_by.id
    ? tQuoted("tasks.detail.posted_for", { who: quoted(task.created_by.name), whom: quoted(task.requester.name) })
    : task.created_by ? quoted(task.created_by.name) : t("tasks.detail.someone");
  const where = placeText(task);
  putSlots(root, {
    byline: tQuoted("tasks.detail.byline", { who: poster, when: formatDateTime(task.published_at || task.created_at) }),
    where: where.childNodes.length ? where : t("tasks.detail.nowhere"),
    who_may: whoMayText(task, grids, buildings),
  });
  setSlots(root, {
    title: task.title,
    description: task.description,
    when: whenText(task),
    people: peopleText(task),
    every: task.checkin_every_days ? t("tasks.detail.every_days", { n: task.checkin_every_days }) : "",
    wisher: task.requester ? task.requester.name : "",
    evidence: t(task.evidence_required ? "tasks.detail.evidence_yes"
      : wishy(task) ? "tasks.detail.evidence_none" : "tasks.detail.evidence_no"),
    organiser: task.organisers.map((o) => o.name).filter(Boolean).join("、") || t("tasks.detail.someone"),
  });
  $('[data-slot="description"]', root).hidden = !task.description;
  $("[data-reward]", root).replaceChildren(rewardPill(task));
  for (const row of $$('[data-row="every"]', root)) row.hidden = !task.checkin_every_days;
  for (const row of $$('[data-row="wisher"]', root)) row.hidden = !(wishy(task) && task.requester);
  for (const row of $$('[data-row="people"]', root)) row.hidden = wishy(task); // one person takes it up
  $("[data-wisher-label]", root).textContent = t(task.kind === "wish" ? "tasks.detail.wisher" : "tasks.detail.asker");
  const share = task.people_needed ? Math.min(100, (100 * task.claimed_count) / task.people_needed) : 0;
  $("[data-people-fill]", root).style.width = `${share}%`;
  showPhotos($("[data-photos]", root), task.photos || []);
  const closed = $("[data-cancelled]", root);
  closed.hidden = task.status !== "cancelled";
  closed.textContent = task.close_reason ? t("tasks.detail.cancelled_reason", { reason: task.close_reason })
    : t("tasks.detail.cancelled");
  $("[data-share-row]").hidden = task.status === "draft" || task.status === "pending";
  $("[data-issue-row]").hidden = !task.issue_id;
  if (task.issue_id) {
    $("[data-issue-link]").href = `/c/${encodeURIComponent(cid)}/issues/${encodeURIComponent(task.issue_id)}`;
  }
  renderMine();
  renderFor();
  renderRequest();
  await renderOrganiser();
}

/** A wish or a request for help: one person takes it up, and the one it is for confirms. */
function wishy(thing) {
  return thing.kind === "wish" || thing.kind === "timebank";
}

function actions(thing) {
  return (thing && thing.allowed_actions) || [];
}

// ---- my part ---------------------------------------------------------------------------------

function renderMine() {
  const section = $("[data-mine-section]");
  const claim = task.my_claim;
  const organiser = task.i_organise;
  // The one a wish or a request is for does not take it up: their part is the section below.
  section.hidden = !claim && !task.can_claim && (organiser || asker() || !["open", "full"].includes(task.status));
  const state = $("[data-claim-state]");
  const steps = $("[data-steps]");
  const claimButton = $("[data-claim]");
  claimButton.hidden = !task.can_claim;
  claimButton.textContent = t(task.kind === "adoption" ? "tasks.do.adopt" : task.kind === "wish"
    ? "tasks.do.take_wish" : task.kind === "timebank" ? "tasks.do.take_request" : "tasks.do.claim");
  if (claim && claim.status !== "withdrawn") {
    state.replaceChildren(claimSentence(claim, task));
    state.dataset.tone = claimTone(claim);
    state.dataset.claimStatus = claim.status;
    claimSteps(steps, claim);
    steps.hidden = task.kind === "adoption";
  } else {
    const { unit, amount } = rewardOf(task);
    state.textContent = task.can_claim ? t(amount ? "tasks.claim.say.none" : "tasks.claim.say.none_unpaid",
      { reward: amountText(unit, amount) }) : refusalText(task.claim_refusal);
    state.dataset.tone = "";
    state.dataset.claimStatus = claim ? claim.status : "";
    steps.hidden = true;
  }
  showQueued();
  const mine = actions(claim);
  const checkin = $("[data-checkin-form]");
  // A wish or a request for help needs no check-in (the one it is for confirms); an adopted patch has
  // nobody on site to show a code: a photo of it is the check-in.
  checkin.hidden = !mine.includes("checkin") || task.kind === "wish" || task.kind === "timebank";
  const adoption = task.kind === "adoption";
  $("[data-checkin-photo]", checkin).hidden = !adoption;
  $("[data-checkin-code]", checkin).hidden = adoption;
  $("[data-scan]", checkin).hidden = adoption || !canScan();
  $('[type="submit"]', checkin).textContent = t(task.kind === "adoption" ? "tasks.do.adoption_checkin"
    : "tasks.do.checkin");
  const evidence = $("[data-evidence-form]");
  evidence.hidden = !mine.includes("submit");
  $("[data-hours-field]", evidence).hidden = rewardOf(task).unit !== "hours";
  $("[data-evidence-title]", evidence).textContent = t(task.evidence_required ? "tasks.evidence.title_required"
    : "tasks.evidence.title");
  const row = $("[data-mine-actions]");
  row.replaceChildren();
  for (const action of ["renew", "hand_over", "withdraw"]) {
    if (!mine.includes(action)) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = action === "withdraw" ? "btn btn--danger" : "btn";
    button.dataset.do = action;
    button.textContent = t(`tasks.do.${action}`);
    if (action === "withdraw") {
      confirmTap(button, t("tasks.do.withdraw_sure"), () => claimStep(claim, "withdraw", {}, button));
    } else if (action === "hand_over") {
      button.addEventListener("click", openHandOver);
    } else {
      button.addEventListener("click", () => claimStep(claim, action, {}, button));
    }
    row.append(button);
  }
  row.hidden = row.children.length === 0;
}

/** Whether a claim, check-in or evidence of this task still waits on the phone for the network. */
async function showQueued() {
  const waiting = (await listWrites()).some((item) => item.url.startsWith(base)
    && (item.status === "queued" || item.status === "sending"));
  $("[data-queued]").hidden = !waiting;
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
      showQueued();
      toast(t("ui.queue.saved_offline"));
      return;
    }
    if (person) {
      forPicker.reset();
      toast(t("tasks.for.claimed", { name: person.name }));
    } else {
      toast(t("tasks.claim.done"));
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

/** A claim's step through the queue (on site the network comes and goes); `form` shows a refusal. */
async function claimStep(claim, action, extra, control, form = null, files = []) {
  if (control) busy(control, true);
  const url = apiTaskPath(cid, taskId, `/claims/${encodeURIComponent(claim.id)}/transitions`);
  const options = { label: `tasks.queue.${action}` };
  if (files.length) options.attachments = { url: communityPath(cid, "/uploads"), field: "photo_ids", files };
  try {
    const result = await submitWrite("POST", url, { action, ...extra }, options);
    if (result.status === "queued") {
      showQueued();
      toast(t("ui.queue.saved_offline"));
      return "queued";
    }
    toast(t(`tasks.done.${action}`, { name: claim.person.name }));
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

async function checkIn(form, claim) {
  clearErrors(form);
  if (task.kind === "adoption" && form === $("[data-checkin-form]")) {
    await photoCheckIn(form, claim);
    return;
  }
  const code = codeFrom(form.elements.code.value).replace(/\s+/g, "").toUpperCase();
  if (!code) {
    fieldError(form, "code", t("tasks.checkin.missing"));
    return;
  }
  const done = await claimStep(claim, "checkin", { code }, $('[type="submit"]', form), form);
  if (done) form.reset();
}

/** An adoption's check-in: a photo of the patch looked after (kept on the phone when offline). */
async function photoCheckIn(form, claim) {
  if (checkinPicker.uploading()) {
    fieldError(form, "photo_ids", t("ui.photos.wait"));
    return;
  }
  const kept = checkinPicker.files();
  if (checkinPicker.ids().length + kept.length === 0) {
    fieldError(form, "photo_ids", t("tasks.checkin.photo_missing"));
    return;
  }
  const done = await claimStep(claim, "checkin", { photo_ids: checkinPicker.ids() }, $('[type="submit"]', form),
    form, kept);
  if (done) checkinPicker.reset();
}

/** Opened from the site's QR (its link carries ?code=…): check in with it, or say what comes first. */
function arriveWithCode() {
  history.replaceState(null, "", `/c/${encodeURIComponent(cid)}/tasks/${encodeURIComponent(taskId)}`);
  const form = $("[data-checkin-form]");
  form.elements.code.value = codeFrom(arrivedCode);
  if (form.hidden) {
    const checkedIn = task.my_claim && task.my_claim.status !== "claimed" && task.kind !== "adoption";
    toast(t(checkedIn ? "tasks.checkin.already" : task.can_claim ? "tasks.checkin.claim_first"
      : "tasks.checkin.not_now"), checkedIn ? "info" : "error");
    return;
  }
  form.scrollIntoView({ block: "center" });
  checkIn(form, task.my_claim);
}

async function submitEvidence(form, claim, picker) {
  clearErrors(form);
  if (picker.uploading()) {
    fieldError(form, "photo_ids", t("ui.photos.wait"));
    return;
  }
  const note = form.elements.note.value.trim();
  const hoursField = form.elements.hours;
  const hours = hoursField && hoursField.value && !hoursField.closest("[hidden]") ? Number(hoursField.value) : null;
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

// ---- acting for a resident -------------------------------------------------------------------------

function renderFor() {
  const section = $("[data-for-section]");
  const open = can(permissions, "tasks.act_for", roles) && task.status === "open";
  if (open && !forPicker) {
    forPicker = personPicker($("[data-for-picker]"), cid, (member) => {
      forPerson = member;
      $("[data-for-claim]").disabled = !member;
    }, buildings);
  }
  $("[data-for-picker]").hidden = !open;
  $("[data-for-claim]").hidden = !open;
  $("[data-for-hint]").hidden = !open;
  const claims = task.claims_for_others || [];
  $("[data-for-claims]").replaceChildren(...claims.map((c) => claimantCard(c, { forOthers: true })));
  section.hidden = !open && claims.length === 0;
}

// ---- the one a wish or a request is for (a facilitator posted it for them) -------------------------

function organiserView() {
  return task.i_organise || can(permissions, "tasks.manage", roles);
}

/** Whether I am the one a live wish or request is for (only they, besides organisers, may cancel it). */
function asker() {
  return wishy(task) && actions(task).includes("cancel");
}

/** Who took up the wish or the request, what they handed in, and (for the one it is for, or the
 * facilitator acting for them) confirm or send back; organisers do it from their console below. */
function renderRequest() {
  const section = $("[data-request-section]");
  const claims = task.request_claims || [];
  const mine = asker();
  section.hidden = !wishy(task) || organiserView() || (claims.length === 0 && !mine);
  if (section.hidden) return;
  $("[data-request-heading]").textContent = t(`tasks.org.title_${task.kind}`);
  const deciding = claims.some((c) => actions(c).includes("confirm") || actions(c).includes("reject"));
  const hint = $("[data-request-hint]");
  const forSomeone = Boolean(task.requester) && !mine;
  hint.replaceChildren(deciding ? (forSomeone
    ? tQuoted("tasks.request.for_hint", { name: quoted(task.requester.name) })
    : t("tasks.claim.say.wish_confirm")) : "");
  hint.hidden = !deciding;
  $("[data-request-claims]").replaceChildren(...claims.map((c) => claimantCard(c, { request: true })));
  $("[data-request-empty]").hidden = claims.length > 0;
}

// ---- the organiser's part (and the wisher's: they confirm) -------------------------------------

async function renderOrganiser() {
  const section = $("[data-organiser-section]");
  const organiser = organiserView();
  section.hidden = !organiser;
  clearTimeout(codeTimer);
  if (!organiser) return;
  const bar = $("[data-task-actions]");
  bar.replaceChildren();
  $("[data-org-heading]").textContent = t(wishy(task) ? `tasks.org.title_${task.kind}` : "tasks.org.title");
  for (const action of TASK_ACTIONS) {
    if (!actions(task).includes(action)) continue;
    if (action === "start" && wishy(task)) continue; // nothing starts: someone helps, the asker confirms
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
  if (!["done", "cancelled", "expired"].includes(task.status)) {
    const edit = document.createElement("a");
    edit.className = "btn";
    edit.href = `/c/${encodeURIComponent(cid)}/tasks/${encodeURIComponent(task.id)}/edit`;
    edit.dataset.do = "edit";
    edit.textContent = t("tasks.do.edit");
    bar.append(edit);
  }
  bar.hidden = bar.children.length === 0;
  await Promise.all([showCode(), loadConsole()]);
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

/** The code and QR shown on site; a rotating code is fetched again when it changes. */
async function showCode() {
  const box = $("[data-code-box]");
  const live = ["open", "full", "in_progress"].includes(task.status) && task.kind !== "wish"
    && task.kind !== "timebank" && task.i_organise;
  box.hidden = true;
  if (!live) return;
  let code;
  try {
    code = await api("GET", `${base}/checkin-code`);
  } catch {
    return;
  }
  $("[data-code]", box).textContent = code.code;
  const qr = $("[data-code-qr]", box);
  qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(code.qr_svg)}`;
  qr.hidden = false;
  $("[data-code-link]", box).textContent = code.checkin_url;
  box.hidden = false;
  if (code.rotating && code.valid_until) {
    const wait = Math.max(5_000, Date.parse(code.valid_until) - Date.now() + 500);
    codeTimer = setTimeout(() => showCode().catch(() => undefined), wait);
  }
}

async function loadConsole() {
  let view;
  try {
    view = await api("GET", `${base}/console`);
  } catch {
    $("[data-claims-block]").hidden = true;
    return;
  }
  $("[data-claims-block]").hidden = false;
  const { attendance, counts } = view;
  const parts = wishy(task) ? []
    : [t("tasks.org.attendance", { present: attendance.checked_in, expected: attendance.expected })];
  for (const [status, n] of Object.entries(counts)) {
    parts.push(t("tasks.org.count", { label: t(`tasks.claim.status.${status}`), n }));
  }
  $("[data-claims-summary]").textContent = parts.join(" · ");
  $("[data-claims]").replaceChildren(...view.claimants.map((c) => claimantCard(c, { organiser: true })));
  $("[data-claims-empty]").hidden = view.claimants.length > 0;
}

/** One claim as the organiser or a facilitator sees it: who, state, evidence, what may be done. */
function claimantCard(claim, { organiser = false, forOthers = false, request = false } = {}) {
  const meta = [];
  if (claim.acted_by) meta.push(tQuoted("tasks.org.acted_by", { name: quoted(claim.acted_by.name) }));
  if (claim.organisation) meta.push(quoted(claim.organisation));
  if (claim.checked_in_at) {
    meta.push(t(claim.checkin_method === "organiser" ? "tasks.org.marked_at" : "tasks.org.checked_in_at",
      { when: formatDateTime(claim.last_checkin_at || claim.checked_in_at) }));
  }
  if (claim.checkin_overdue) meta.push(t("tasks.org.overdue", { when: formatDateTime(claim.next_checkin_due_at) }));
  if (claim.minutes) meta.push(t("tasks.org.minutes", { hours: amountText("hours", claim.minutes) }));
  if (claim.auto_verified) meta.push(t("tasks.org.auto_verified"));
  if (claim.paid_amount) meta.push(t("tasks.org.paid", { amount: amountText(claim.paid_unit, claim.paid_amount) }));
  if (request && claim.verified_by && !claim.auto_verified) {
    meta.push(tQuoted("tasks.request.confirmed_by", { name: quoted(claim.verified_by.name) }));
  }
  if (claim.rejected_reason && claim.status === "rejected") {
    meta.push(t("tasks.org.reason", { reason: claim.rejected_reason }));
  }
  const card = fill("tpl-claimant", {
    name: claim.person.name || t("tasks.detail.someone"), evidence: claim.evidence_note,
  });
  putSlots(card, { meta: joinNodes(meta) });
  card.dataset.claimId = claim.id;
  card.dataset.claimStatus = claim.status;
  $("[data-badge]", card).replaceChildren(claimBadge(claim));
  showPhotos($("[data-photos]", card), claim.evidence_photos || []);
  $('[data-slot="evidence"]', card).hidden = !claim.evidence_note;
  const bar = $("[data-claim-actions]", card);
  const slot = $("[data-claim-form]", card);
  const wanted = forOthers ? ["checkin", "submit", "withdraw"]
    : request ? ["confirm", "reject"] : ["checkin", "verify", "confirm", "reject", "no_show"];
  for (const action of wanted) {
    if (!actions(claim).includes(action)) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = `btn btn--small${PRIMARY_CLAIM.has(action) ? " btn--primary" : ""}${
      DANGER_CLAIM.has(action) || action === "withdraw" ? " btn--danger" : ""}`;
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
    const area = form.elements.reason;
    area.id = `reject-${claim.id}`;
    $("[data-label-for]", form).htmlFor = area.id;
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
    const input = form.elements.code;
    input.id = `for-code-${claim.id}`;
    $("[data-label-for]", form).htmlFor = input.id;
    slot.replaceChildren(form);
    input.focus();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      checkIn(form, claim);
    });
    return;
  }
  if (action === "submit") {
    const form = fill("tpl-for-evidence");
    for (const label of $$("[data-label-for]", form)) {
      const control = form.elements.namedItem(label.dataset.labelFor);
      control.id = `for-${label.dataset.labelFor}-${claim.id}`;
      label.htmlFor = control.id;
    }
    slot.replaceChildren(form);
    const picker = photoPicker($("[data-photo-slot]", form), cid, { keep: true });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitEvidence(form, claim, picker);
    });
    return;
  }
  if (action === "withdraw") {
    claimStep(claim, "withdraw", {}, button);
    return;
  }
  organiserStep(claim, action, {}, button);
}

/** The organiser's steps go straight to the server (a desk, a list: no queue needed). */
async function organiserStep(claim, action, extra, button, form = null) {
  busy(button, true);
  try {
    await api("POST", apiTaskPath(cid, taskId, `/claims/${encodeURIComponent(claim.id)}/transitions`),
      { body: { action, ...extra } });
    toast(t(`tasks.done.${action}`, { name: claim.person.name }));
    await refresh();
  } catch (error) {
    if (form) showErrors(form, error);
    else toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
  }
}
