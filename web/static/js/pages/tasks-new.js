// Posting a task: /c/{cid}/tasks/new (an organiser: a volunteer job or an adoption 认领),
// /c/{cid}/wishes/new (a micro-wish 微心愿, mine or — for a facilitator — a resident's, which the
// committee approves), /c/{cid}/timebank/new (help asked for, paid from my own hours, held when
// posted), and /c/{cid}/tasks/{id}/edit. Times are Beijing time; hours are sent as minutes.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { photoPicker } from "../issues.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, $$, busy, can, cidOfPage, clearErrors, communityPath, fieldErrors, pageData, showErrors, toast,
} from "../ui.js";
import {
  apiTaskPath, hoursText, personIdOf, personPicker, quoted, taskPath, tQuoted, userOption,
} from "./tasks-parts.js";

const cid = cidOfPage();
const { form: mode, permissions, task_id: taskId } = pageData();
let picker = null;
let forPerson = null;
let located = null;
let hoursBalance = null;
let mayReward = false;
let editing = null; // the task being edited
// /tasks/new?issue=… turns a reported issue into a volunteer task (both keep the link).
const fromIssue = mode === "task" ? new URLSearchParams(window.location.search).get("issue") : null;

start(async () => {
  rememberCommunity(cid);
  const [community, buildings, grids] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", communityPath(cid, "/buildings"), { keep: true }).catch(() => []),
    api("GET", communityPath(cid, "/grids"), { keep: true }).catch(() => []),
  ]);
  const roles = community.my_roles;
  mayReward = can(permissions, "tasks.reward", roles);
  $("[data-loading]").hidden = true;
  if ((mode === "task" || mode === "edit") && !can(permissions, "tasks.organise", roles)) {
    $("[data-staff-only]").hidden = false;
    return;
  }
  const form = $("[data-task-form]");
  for (const select of [form.elements.building_id, form.elements.scope_building_id]) {
    for (const b of buildings) select.append(userOption(b.name, b.id));
  }
  for (const g of grids) form.elements.grid_id.append(userOption(g.name, g.id));
  picker = photoPicker($("[data-photo-slot]", form), cid);
  wire(form, roles);
  if (mode === "edit") await loadTask(form);
  if (fromIssue) await loadIssue(form);
  if (mode === "timebank") await loadHours();
  showKind(form);
  form.hidden = false;
});

function kindOf(form) {
  return form.elements.kind.value;
}

function wire(form, roles) {
  $("[data-draft]").hidden = mode !== "task";
  for (const radio of $$('[name="kind"], [name="unit"]', form)) radio.addEventListener("change", () => showKind(form));
  form.elements.scope.addEventListener("change", () => showScope(form));
  // A facilitator may post a wish or a request for help for a resident without a phone.
  const forBox = $("[data-for-box]", form);
  forBox.hidden = !(mode === "wish" || mode === "timebank") || !can(permissions, "tasks.act_for", roles);
  $("[data-for-toggle]", form).addEventListener("change", (event) => {
    const slot = $("[data-for-slot]", form);
    slot.hidden = !event.target.checked;
    if (event.target.checked && !slot.children.length) {
      personPicker(slot, cid, (member) => {
        forPerson = member;
      });
    }
    if (!event.target.checked) forPerson = null;
  });
  $("[data-locate]", form).addEventListener("click", () => locate(form));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const draft = event.submitter && event.submitter.hasAttribute("data-draft");
    submit(form, draft);
  });
}

/** Whether this form sets a reward: a request for help always (its hours); otherwise the committee
 * (tasks.reward), and on an edit only while the task is a draft (a published reward is a promise). */
function rewardShown(kind) {
  if (editing && editing.status !== "draft") return false;
  return kind === "timebank" || mayReward;
}

function showKind(form) {
  const kind = kindOf(form);
  for (const box of $$("[data-only]", form)) box.hidden = !box.dataset.only.split(" ").includes(kind);
  for (const box of $$("[data-reward-field]", form)) box.hidden = box.hidden || !rewardShown(kind);
  const hint = $("[data-kind-hint]", form);
  if (hint) hint.textContent = t(`tasks.new.kind_hint.${kind}`);
  const unit = kind === "timebank" ? "hours" : (form.elements.unit.value || "points");
  const amount = form.elements.amount;
  $("[data-amount-label]", form).textContent = t(kind === "timebank" ? "tasks.new.amount_timebank"
    : unit === "hours" ? "tasks.new.amount_hours" : "tasks.new.amount_points");
  amount.step = unit === "hours" ? "0.5" : "1";
  $("[data-amount-hint]", form).textContent = kind === "timebank"
    ? t("tasks.new.amount_timebank_hint", { balance: hoursBalance === null ? "?" : hoursText(hoursBalance) })
    : t(unit === "hours" ? "tasks.new.amount_hours_hint" : "tasks.new.amount_points_hint");
  $("[data-starts-label]", form).textContent = t(kind === "adoption" ? "tasks.new.adopt_from" : "tasks.new.starts");
  $("[data-ends-label]", form).textContent = t(kind === "adoption" ? "tasks.new.adopt_until"
    : kind === "wish" ? "tasks.new.wish_by" : "tasks.new.ends");
  showScope(form);
}

function showScope(form) {
  const scope = form.elements.scope.value;
  for (const box of $$("[data-scope]", form)) box.hidden = box.dataset.scope !== scope;
}

async function loadHours() {
  try {
    const mine = await api("GET", communityPath(cid, "/points/me"));
    hoursBalance = (mine.balances || {}).hours ?? mine.hours ?? null;
  } catch {
    hoursBalance = null;
  }
}

function locate(form) {
  const note = $("[data-located]", form);
  if (!navigator.geolocation) {
    toast(t("tasks.list.near_failed"), "error");
    return;
  }
  navigator.geolocation.getCurrentPosition((position) => {
    located = { lat: position.coords.latitude, lng: position.coords.longitude };
    note.hidden = false;
  }, () => toast(t("tasks.list.near_failed"), "error"), { timeout: 8000 });
}

/** "2026-12-12T09:00" from a datetime-local field, as Beijing time. */
function beijing(value) {
  return value ? `${value}:00+08:00` : null;
}

function localValue(iso) {
  if (!iso) return "";
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}

async function loadTask(form) {
  const task = await api("GET", apiTaskPath(cid, taskId));
  editing = task;
  const radio = $(`[name="kind"][value="${task.kind}"]`, form);
  if (radio) radio.checked = true;
  for (const other of $$('[name="kind"]', form)) other.disabled = true; // a task keeps its kind
  form.elements.title.value = task.title;
  form.elements.description.value = task.description;
  form.elements.building_id.value = task.place.building_id || "";
  form.elements.location_text.value = task.place.location_text || "";
  form.elements.starts_at.value = localValue(task.starts_at);
  form.elements.ends_at.value = localValue(task.ends_at);
  form.elements.people_needed.value = String(task.people_needed);
  if (task.checkin_every_days) form.elements.checkin_every_days.value = String(task.checkin_every_days);
  const unit = task.reward.unit || "points";
  $(`[name="unit"][value="${unit}"]`, form).checked = true;
  form.elements.amount.value = String(unit === "hours" ? task.reward.amount / 60 : task.reward.amount);
  form.elements.evidence_required.checked = task.evidence_required;
  const scope = task.eligibility || {};
  form.elements.scope.value = scope.scope || "community";
  if (scope.grid_id) form.elements.grid_id.value = scope.grid_id;
  if (scope.building_id) form.elements.scope_building_id.value = scope.building_id;
  if (scope.role) form.elements.role.value = scope.role;
  $("[data-submit]", form).textContent = t("tasks.new.submit.edit");
}

async function loadIssue(form) {
  const issue = await api("GET", communityPath(cid, `/issues/${encodeURIComponent(fromIssue)}`));
  for (const radio of $$('[name="kind"]', form)) {
    radio.checked = radio.value === "volunteer";
    radio.disabled = radio.value !== "volunteer";
  }
  form.elements.title.value = issue.title;
  form.elements.description.value = issue.description || "";
  form.elements.location_text.value = issue.location_text || "";
  if (issue.building_id) form.elements.building_id.value = issue.building_id;
  const note = $("[data-from-issue]", form);
  note.replaceChildren(tQuoted("tasks.new.from_issue", { title: quoted(issue.title) }));
  note.hidden = false;
}

function collect(form) {
  const kind = kindOf(form);
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
  const body = {
    title: value("title"), description: value("description"), location_text: value("location_text"),
    building_id: value("building_id") || null, starts_at: beijing(value("starts_at")), ends_at: beijing(value("ends_at")),
    evidence_required: form.elements.evidence_required.checked,
  };
  if (picker.ids().length || mode !== "edit") body.photo_ids = picker.ids();
  if (located) Object.assign(body, located);
  const unit = kind === "timebank" ? "hours" : form.elements.unit.value;
  const amount = Number(value("amount") || "0");
  if (rewardShown(kind)) body.reward = { unit, amount: unit === "hours" ? Math.round(amount * 60) : Math.round(amount) };
  if (kind === "volunteer" || kind === "adoption") {
    body.people_needed = Number(value("people_needed") || "1");
    const scope = value("scope");
    body.eligibility = { scope };
    if (scope === "grid") body.eligibility.grid_id = value("grid_id") || null;
    if (scope === "building") body.eligibility.building_id = value("scope_building_id") || null;
    if (scope === "role") body.eligibility.role = value("role");
  }
  if (kind === "adoption") body.checkin_every_days = Number(value("checkin_every_days") || "7");
  return { kind, body, amount };
}

function check(form, kind, body, amount) {
  const problems = [];
  if (!body.title) problems.push(["title", t("tasks.new.title_missing")]);
  if (body.reward && (!Number.isFinite(amount) || amount < 0)) problems.push(["amount", t("tasks.new.amount_bad")]);
  if (kind === "timebank" && body.reward && !(amount > 0)) {
    problems.push(["amount", t("tasks.new.amount_timebank_missing")]);
  }
  if ((kind === "volunteer" || kind === "adoption" || kind === "timebank") && !body.starts_at) {
    problems.push(["starts_at", t("tasks.new.starts_missing")]);
  }
  if ((kind === "volunteer" || kind === "adoption" || kind === "timebank") && !body.ends_at) {
    problems.push(["ends_at", t("tasks.new.ends_missing")]);
  }
  if (body.starts_at && body.ends_at && body.ends_at <= body.starts_at) {
    problems.push(["ends_at", t("tasks.new.ends_before")]);
  }
  if (body.people_needed !== undefined && !(body.people_needed >= 1)) {
    problems.push(["people_needed", t("tasks.new.people_bad")]);
  }
  if ($("[data-for-toggle]", form).checked && !forPerson) problems.push(["for_person_id", t("tasks.new.for_missing")]);
  if (picker.uploading()) problems.push(["photo_ids", t("ui.photos.wait")]);
  return fieldErrors(form, problems);
}

async function submit(form, draft) {
  clearErrors(form);
  const { kind, body, amount } = collect(form);
  if (check(form, kind, body, amount)) return;
  const button = draft ? $("[data-draft]", form) : $("[data-submit]", form);
  busy(button, true);
  try {
    let task;
    if (mode === "edit") {
      task = await api("PATCH", apiTaskPath(cid, taskId), { body });
    } else {
      const create = { ...body, kind, publish: !draft };
      if (forPerson) create.for_person_id = personIdOf(forPerson);
      if (fromIssue) {
        delete create.kind;
        task = await api("POST", communityPath(cid, `/issues/${encodeURIComponent(fromIssue)}/task`), { body: create });
      } else {
        task = await api("POST", communityPath(cid, "/tasks"), { body: create });
      }
    }
    toast(t(mode === "edit" ? "tasks.new.saved" : draft ? "tasks.new.drafted" : `tasks.new.posted.${kind}`));
    window.location.assign(taskPath(cid, task.id));
  } catch (error) {
    showErrors(form, error);
    busy(button, false);
  }
}
