// /c/{cid}/tasks/console: the organiser's console 任务管理 — what waits for verification across my
// tasks (the evidence: photos, note, hours; when it would be verified automatically), verified or
// rejected with a reason from here; the micro-wishes waiting for the committee's approval; and the
// tasks I organise, drafts included, each opening its page with the claimants and attendance.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, can, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fill, formatDateTime, pageData,
  showErrors, toast,
} from "../ui.js";
import {
  amountText, apiTaskPath, claimBadge, joinNodes, putSlots, quoted, showPhotos, taskCard, taskPath, tQuoted,
} from "./tasks-parts.js";

const cid = cidOfPage();
let roles = [];
let queueCursor = null;
let organisedCursor = null;

start(async () => {
  rememberCommunity(cid);
  const community = await api("GET", communityPath(cid), { keep: true });
  roles = community.my_roles;
  const { permissions } = pageData();
  $("[data-loading]").hidden = true;
  if (!can(permissions, "tasks.organise", roles)) {
    $("[data-staff-only]").hidden = false;
    return;
  }
  $("[data-queue-more]").addEventListener("click", () => loadQueue(false).catch(failed));
  $("[data-organised-more]").addEventListener("click", () => loadOrganised(false).catch(failed));
  const approvals = can(permissions, "tasks.manage", roles);
  await Promise.all([loadQueue(true), loadOrganised(true), approvals ? loadApprovals() : null]);
  $("[data-console]").hidden = false;
});

function failed(error) {
  toast(errorMessage(error), "error");
}

async function loadQueue(fresh) {
  const params = new URLSearchParams({ limit: "20" });
  if (!fresh && queueCursor) params.set("cursor", queueCursor);
  const page = await api("GET", `${communityPath(cid, "/tasks/queue")}?${params}`, { keep: fresh });
  const list = $("[data-queue]");
  const cards = page.items.map(queueCard);
  if (fresh) list.replaceChildren(...cards);
  else list.append(...cards);
  queueCursor = page.next_cursor;
  $("[data-queue-more]").hidden = !queueCursor;
  $("[data-queue-empty]").hidden = list.children.length > 0;
}

async function loadOrganised(fresh) {
  const params = new URLSearchParams({ mine: "organising", limit: "20" });
  if (!fresh && organisedCursor) params.set("cursor", organisedCursor);
  const page = await api("GET", `${communityPath(cid, "/tasks")}?${params}`, { keep: fresh });
  const list = $("[data-organised]");
  const cards = page.items.map((task) => taskCard(task, cid));
  if (fresh) list.replaceChildren(...cards);
  else list.append(...cards);
  organisedCursor = page.next_cursor;
  $("[data-organised-more]").hidden = !organisedCursor;
  $("[data-organised-empty]").hidden = list.children.length > 0;
}

/** Micro-wishes waiting for the committee: each opens its page, where 审核通过 is one tap. */
async function loadApprovals() {
  const params = new URLSearchParams({ kind: "wish", status: "pending", limit: "20" });
  const page = await api("GET", `${communityPath(cid, "/tasks")}?${params}`);
  $("[data-approvals]").replaceChildren(...page.items.map((task) => taskCard(task, cid)));
  $("[data-approvals-section]").hidden = page.items.length === 0;
}

function queueCard({ claim, task, auto_verify_at: autoAt }) {
  const meta = [];
  if (claim.submitted_at) meta.push(t("tasks.console.submitted_at", { when: formatDateTime(claim.submitted_at) }));
  if (claim.minutes) meta.push(t("tasks.org.minutes", { hours: amountText("hours", claim.minutes) }));
  if (claim.acted_by) meta.push(tQuoted("tasks.org.acted_by", { name: quoted(claim.acted_by.name) }));
  if (autoAt) meta.push(t("tasks.console.auto_at", { when: formatDateTime(autoAt) }));
  const card = fill("tpl-queue-item", { name: claim.person.name, task: task.title, evidence: claim.evidence_note });
  putSlots(card, { meta: joinNodes(meta) });
  card.dataset.claimId = claim.id;
  $("[data-task-link]", card).href = taskPath(cid, task.id);
  $("[data-badge]", card).replaceChildren(claimBadge(claim));
  showPhotos($("[data-photos]", card), claim.evidence_photos || []);
  $('[data-slot="evidence"]', card).hidden = !claim.evidence_note;
  const bar = $("[data-claim-actions]", card);
  const slot = $("[data-claim-form]", card);
  for (const action of ["verify", "confirm", "reject"]) {
    if (!(claim.allowed_actions || []).includes(action)) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = action === "reject" ? "btn btn--danger btn--small" : "btn btn--primary btn--small";
    button.dataset.do = action;
    button.textContent = t(`tasks.do.${action}`);
    button.addEventListener("click", () => {
      if (action === "reject") rejectForm(slot, claim, task, card);
      else step(claim, task, action, {}, button, card);
    });
    bar.append(button);
  }
  return card;
}

function rejectForm(slot, claim, task, card) {
  const form = fill("tpl-reject-form");
  const area = form.elements.reason;
  area.id = `reject-${claim.id}`;
  form.querySelector("[data-label-for]").htmlFor = area.id;
  slot.replaceChildren(form);
  area.focus();
  form.querySelector("[data-cancel]").addEventListener("click", () => slot.replaceChildren());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    const reason = area.value.trim();
    if (!reason) {
      fieldError(form, "reason", t("tasks.org.reason_missing"));
      return;
    }
    step(claim, task, "reject", { reason }, form.querySelector('[type="submit"]'), card, form);
  });
}

async function step(claim, task, action, extra, button, card, form = null) {
  busy(button, true);
  try {
    const updated = await api("POST", apiTaskPath(cid, task.id, `/claims/${encodeURIComponent(claim.id)}/transitions`),
      { body: { action, ...extra } });
    toast(t(`tasks.done.${action}`, { name: claim.person.name }));
    card.dataset.claimStatus = updated.status;
    $("[data-badge]", card).replaceChildren(claimBadge(updated));
    $("[data-claim-actions]", card).replaceChildren();
    $("[data-claim-form]", card).replaceChildren();
  } catch (error) {
    if (form) showErrors(form, error);
    else toast(errorMessage(error), "error");
    busy(button, false);
  }
}
