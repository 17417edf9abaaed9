// /c/{cid}/polls/new and /c/{cid}/polls/{id}/edit: the committee's poll builder 发起表决.
// Start from a card — a proposal under a rule the law names (民法典第二百七十八条, 老旧小区改造,
// 村民会议), a simple majority or a custom rule, or a choice poll (single, multiple, dots over the
// issue list, ranked, score) — then the question, the options, who votes, how, and when. The
// rule is stated in plain words as it is edited: a preset's own sentence from the server, a custom
// rule's built here the way app/polls/rules.py describe() builds it. Saving makes a draft (POST,
// or PATCH with the version); "开始投票" then opens it at once, or schedules it for opens_at.

import { api, ApiError, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { lang } from "../prefs.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, $$, busy, can, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fill, goSignIn, pageData,
  userOption,
} from "../ui.js";

const cid = cidOfPage();
const { permissions, poll_id: pollId } = pageData();
const OPEN_ISSUES = "reported,accepted,dispatched,in_progress,reopened";
const MAX_GROUPS = 3;
const MAX_CRITERIA = 2;
// The proposal cards: a preset the server knows (its electorate fixed by the law), or a custom rule.
const PROPOSALS = {
  civil_code_278: { electorate: "owners" },
  old_compound_renovation_willingness: { preset: "old_compound_renovation_willingness", electorate: "owners" },
  villagers_meeting: { preset: "villagers_meeting", electorate: "residents" },
  simple_majority: { preset: "simple_majority" },
  custom: {},
};
const CIVIL_CODE_PRESETS = ["civil_code_278_major", "civil_code_278_ordinary"];

let form;
let presets = {};
let matters = [];
let current = null; // the saved poll (its id and version), once there is one

start(async () => {
  rememberCommunity(cid);
  form = $("[data-poll-form]");
  const [community, catalogue, buildings, issues, poll] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", communityPath(cid, "/polls/presets"), { keep: true }),
    api("GET", communityPath(cid, "/buildings"), { keep: true }),
    api("GET", `${communityPath(cid, "/issues")}?status=${OPEN_ISSUES}&limit=100`),
    pollId ? api("GET", pollPath(pollId)) : Promise.resolve(null),
  ]);
  if (!can(permissions, "polls.manage", community.my_roles)) {
    throw new ApiError(403, { detail: t("ui.poll_builder.forbidden") });
  }
  presets = Object.fromEntries(catalogue.presets.map((p) => [p.key, p]));
  matters = catalogue.matters;
  $("[data-loading]").hidden = true;
  if (poll && !poll.actions.includes("edit")) {
    const box = $("[data-not-editable]");
    $("[data-poll-link]", box).href = pollPage(poll.id);
    box.hidden = false;
    return;
  }
  fillChoices(buildings, issues.items || []);
  wire();
  if (poll) {
    current = poll;
    loadPoll(poll);
  } else {
    form.elements.closes_at.value = defaultClose();
    addOption();
    addOption();
  }
  update();
  form.hidden = false;
});

function pollPath(id, rest = "") {
  return communityPath(cid, `/polls/${encodeURIComponent(id)}${rest}`);
}

function pollPage(id) {
  return `/c/${encodeURIComponent(cid)}/polls/${encodeURIComponent(id)}`;
}

function localised(zh, en) {
  return lang() === "en" && en ? en : zh;
}

// ---- filling the form ------------------------------------------------------------------------

function fillChoices(buildings, issues) {
  for (const key of Object.keys(PROPOSALS)) {
    const cite = $(`[data-cite="${key}"]`, form);
    const preset = presets[key === "civil_code_278" ? CIVIL_CODE_PRESETS[0] : PROPOSALS[key].preset];
    if (cite && preset && preset.citation) {
      cite.textContent = t("ui.poll_builder.cite", { citation: localised(preset.citation, preset.citation_en) });
    }
  }
  for (const m of matters) {
    const weight = t(m.preset === CIVIL_CODE_PRESETS[0] ? "ui.poll_builder.matter_major" : "ui.poll_builder.matter_ordinary");
    form.elements.matter.append(new Option(t("ui.poll_builder.matter_option", { matter: matterLabel(m), weight }), m.key));
  }
  for (const b of buildings) form.elements.scope_building_id.append(userOption(b.name, b.id));
  for (const issue of issues) form.elements.issue_id.append(userOption(issue.title, issue.id));
  const list = $("[data-issue-list]", form);
  for (const issue of issues) {
    const row = fill("tpl-issue-pick", { title: issue.title });
    const pick = $("[data-pick]", row);
    pick.dataset.issueId = issue.id;
    pick.addEventListener("click", () => {
      addOption(issue.title, issue.id);
      update();
    });
    list.append(row);
  }
  $("[data-issue-empty]", form).hidden = issues.length > 0;
}

/** A Civil Code matter in the page's language (the server names it in Chinese only). */
function matterLabel(m) {
  const key = `ui.poll_builder.matter.${m.key}`;
  const label = t(key);
  return label === key ? m.label_zh : label;
}

function defaultClose() {
  const inAWeek = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  return `${toLocal(inAWeek.toISOString()).slice(0, 10)}T20:00`;
}

/** "2026-11-28T20:00" (Beijing time, as typed) → ISO 8601 with its offset; Shanghai keeps no summer time. */
function toIso(local) {
  return local ? `${local}:00+08:00` : null;
}

function toLocal(iso) {
  if (!iso) return "";
  return new Date(new Date(iso).getTime() + 8 * 3600 * 1000).toISOString().slice(0, 16);
}

function loadPoll(poll) {
  const el = form.elements;
  el.title.value = poll.title;
  el.description.value = poll.description;
  el.electorate.value = poll.electorate;
  el.scope_building_id.value = poll.scope_building_id || "";
  el.scope_unit.value = poll.scope_unit || "";
  el.secret.checked = poll.secret;
  el.allow_change.checked = poll.allow_change;
  el.hide_results.checked = poll.hide_results;
  el.opens_at.value = toLocal(poll.opens_at);
  el.closes_at.value = toLocal(poll.closes_at);
  el.notice_days.value = String(poll.notice_days);
  el.issue_id.value = poll.issue_id || "";
  if (poll.max_choices) el.max_choices.value = String(poll.max_choices);
  el.allow_stacking.checked = poll.allow_stacking;
  el.ranked_method.value = poll.ranked_method || "irv";
  let template = poll.kind;
  if (poll.kind === "proposal") {
    const rule = poll.rule || {};
    if (rule.matter || CIVIL_CODE_PRESETS.includes(rule.key)) {
      template = "civil_code_278";
      el.matter.value = rule.matter || "";
    } else if (rule.key && rule.key !== "custom" && PROPOSALS[rule.key]) {
      template = rule.key;
    } else {
      template = "custom";
      loadCustomRule(rule);
    }
  }
  el.template.value = template;
  for (const o of poll.options) addOption(o.label, o.issue_id);
}

function loadCustomRule(rule) {
  const el = form.elements;
  if (rule.threshold) el.rule_threshold.value = rule.threshold;
  if (rule.base) el.rule_base.value = rule.base;
  for (const box of $$('[name="rule_measure"]', form)) box.checked = (rule.measures || ["headcount"]).includes(box.value);
  for (const group of rule.quorum || []) addGroup(group);
}

// ---- options ---------------------------------------------------------------------------------

function addOption(label = "", issueId = null) {
  const list = $("[data-option-list]", form);
  const row = fill("tpl-option-row");
  const input = $('[name="option_label"]', row);
  input.value = label;
  if (issueId) {
    row.dataset.issueId = issueId;
    $("[data-issue-tag]", row).hidden = false;
  }
  $("[data-remove]", row).addEventListener("click", () => {
    row.remove();
    update();
  });
  for (const button of $$("[data-move]", row)) {
    button.addEventListener("click", () => {
      const step = Number(button.dataset.move);
      const sibling = step < 0 ? row.previousElementSibling : row.nextElementSibling;
      if (!sibling) return;
      if (step < 0) sibling.before(row);
      else sibling.after(row);
      update();
      button.focus();
    });
  }
  list.append(row);
  return row;
}

function optionRows() {
  return $$("[data-option]", form);
}

// ---- the custom rule's quorum groups ----------------------------------------------------------

function addGroup(criteria = [{ measure: "headcount", threshold: "two_thirds" }]) {
  const groups = $("[data-quorum-groups]", form);
  const group = fill("tpl-quorum-group");
  const rows = $("[data-rows]", group);
  const addRow = (criterion) => {
    const row = fill("tpl-quorum-row");
    $("[data-measure]", row).value = criterion.measure;
    $("[data-threshold]", row).value = criterion.threshold;
    $("[data-remove-row]", row).addEventListener("click", () => {
      row.remove();
      if (!$("[data-criterion]", rows)) group.remove();
      update();
    });
    rows.append(row);
  };
  for (const c of criteria) addRow(c);
  $("[data-add-row]", group).addEventListener("click", () => {
    addRow({ measure: "area", threshold: "two_thirds" });
    update();
  });
  $("[data-remove-group]", group).addEventListener("click", () => {
    group.remove();
    update();
  });
  groups.append(group);
}

function customRule() {
  const el = form.elements;
  return {
    threshold: el.rule_threshold.value,
    base: el.rule_base.value,
    measures: $$('[name="rule_measure"]:checked', form).map((box) => box.value),
    quorum: $$("[data-group]", form).map((group) => $$("[data-criterion]", group).map((row) => ({
      measure: $("[data-measure]", row).value, threshold: $("[data-threshold]", row).value,
    }))).filter((group) => group.length),
  };
}

// ---- the rule in plain words (mirrors app/polls/rules.py describe()) ---------------------------

function describe(rule, electorate) {
  const plain = (name, params) => t(`ui.poll_builder.plain.${name}`, params);
  const fraction = (th) => plain(`fraction.${th}`);
  const measure = (m) => plain(`measure.${m}`, { who: plain(`who.${electorate}`) });
  const parts = [];
  if (rule.quorum.length) {
    const groups = rule.quorum.map((g) => g.map((q) => plain("criterion", {
      fraction: fraction(q.threshold), measure: measure(q.measure),
    })).join(plain("and")));
    parts.push(plain("quorum", { groups: groups.join(plain("or")) }));
  }
  const measures = rule.measures.map((m) => plain("clause", {
    base: plain(`base.${rule.base}`), measure: measure(m), fraction: fraction(rule.threshold),
  })).join(plain("and"));
  parts.push(plain("passes", { measures }));
  const text = parts.join(plain("join")) + plain("tail");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function plainOf(preset) {
  const text = localised(preset.plain_zh, preset.plain_en);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What the preview says for the chosen card: [plain words, the law cited or ""]. */
function preview(template) {
  const el = form.elements;
  if (template === "civil_code_278") {
    const matter = matters.find((m) => m.key === el.matter.value);
    if (!matter) return [t("ui.poll_builder.preview_pick_matter"), ""];
    return [plainOf(presets[matter.preset]), t("ui.poll_builder.preview_matter", { matter: matterLabel(matter) })];
  }
  if (PROPOSALS[template] && PROPOSALS[template].preset) return [plainOf(presets[PROPOSALS[template].preset]), ""];
  if (template === "custom") {
    const rule = customRule();
    if (!rule.measures.length) return [t("ui.poll_builder.rule.measures_missing"), ""];
    return [describe(rule, el.electorate.value), ""];
  }
  return ["", ""];
}

// ---- showing what applies ----------------------------------------------------------------------

function wire() {
  for (const type of ["input", "change"]) {
    form.addEventListener(type, (event) => {
      forget(event.target);
      update();
    });
  }
  $("[data-add-option]", form).addEventListener("click", () => {
    $('[name="option_label"]', addOption()).focus();
    update();
  });
  $("[data-add-group]", form).addEventListener("click", () => {
    addGroup();
    update();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save("draft");
  });
  $("[data-open-now]", form).addEventListener("click", () => save("open"));
  $("[data-schedule]", form).addEventListener("click", () => save("schedule"));
}

/** An edited field's old error goes as soon as it is edited. */
function forget(input) {
  if (!input.name || !input.removeAttribute) return;
  input.removeAttribute("aria-invalid");
  const slot = input.name === "option_label" ? $("[data-option-error]", input.closest("[data-option]"))
    : $(`[data-error-for="${input.name}"]`, form);
  if (slot) slot.textContent = "";
}

function update() {
  const el = form.elements;
  const template = el.template.value;
  const proposal = Boolean(PROPOSALS[template]);
  const kind = proposal ? "proposal" : template;
  $("[data-rule-section]", form).hidden = !proposal;
  $("[data-matter-field]", form).hidden = template !== "civil_code_278";
  $("[data-custom-rule]", form).hidden = template !== "custom";
  $("[data-add-group]", form).hidden = $$("[data-group]", form).length >= MAX_GROUPS;
  $$("[data-group]", form).forEach((group, i) => {
    $('[data-slot="title"]', group).textContent = t(i ? "ui.poll_builder.rule.group_or" : "ui.poll_builder.rule.group",
      { n: i + 1 });
    $("[data-add-row]", group).hidden = $$("[data-criterion]", group).length >= MAX_CRITERIA;
  });

  // Who votes: a preset the law ties to owners (or villagers) fixes the electorate.
  const fixed = proposal ? PROPOSALS[template].electorate : null;
  if (fixed) el.electorate.value = fixed;
  for (const radio of $$('[name="electorate"]', form)) radio.disabled = Boolean(fixed) && radio.value !== fixed;
  const hint = $("[data-electorate-hint]", form);
  hint.textContent = fixed ? t("ui.poll_builder.electorate_fixed")
    : t(`ui.poll_builder.electorate.${el.electorate.value}.hint`);
  $("[data-unit-field]", form).hidden = !el.scope_building_id.value && !el.scope_unit.value;

  // A secret poll shows no count before its close, whatever the switch says: say so on the switch.
  el.hide_results.disabled = el.secret.checked;
  $("[data-hide-results-secret]", form).hidden = !el.secret.checked;

  // Options: none for a proposal (同意/反对/弃权 are fixed); k for multiple, dots for approval.
  $("[data-options-section]", form).hidden = proposal || !template;
  const picker = $("[data-issue-picker]", form);
  if (kind === "approval" && !picker.dataset.opened) {
    picker.open = true;
    picker.dataset.opened = "1";
  }
  const rows = optionRows();
  rows.forEach((row, i) => {
    $('[data-slot="number"]', row).textContent = String(i + 1);
    $('[data-move="-1"]', row).disabled = i === 0;
    $('[data-move="1"]', row).disabled = i === rows.length - 1;
  });
  const taken = new Set(rows.map((row) => row.dataset.issueId).filter(Boolean));
  for (const pick of $$("[data-pick]", form)) {
    pick.disabled = taken.has(pick.dataset.issueId);
    pick.textContent = t(pick.disabled ? "ui.poll_builder.issue_added" : "ui.poll_builder.add_issue");
  }
  const usesMax = kind === "multiple" || kind === "approval";
  $("[data-max-field]", form).hidden = !usesMax;
  $("[data-max-label]", form).textContent = t(kind === "approval" ? "ui.poll_builder.dots" : "ui.poll_builder.max_choices");
  if (usesMax && !el.max_choices.value) el.max_choices.value = kind === "approval" ? "3" : "2";
  $("[data-stacking-field]", form).hidden = kind !== "approval";
  $("[data-ranked-field]", form).hidden = kind !== "ranked";
  $("[data-ranked-hint]", form).textContent = t(`ui.poll_builder.ranked.${el.ranked_method.value}.hint`);

  // The rule in plain words.
  const [plain, cite] = proposal ? preview(template)
    : [template ? t(`ui.poll_builder.plain.kind.${kind}`, { k: el.max_choices.value || "k" }) : "", ""];
  $("[data-rule-plain]", form).textContent = plain;
  const citeLine = $("[data-rule-cite]", form);
  citeLine.textContent = cite;
  citeLine.hidden = !cite;

  // "开始投票" at once, or at opens_at when that is later.
  const later = el.opens_at.value && new Date(toIso(el.opens_at.value)).getTime() > Date.now();
  $("[data-schedule]", form).hidden = !later;
}

// ---- saving ----------------------------------------------------------------------------------

function body() {
  const el = form.elements;
  const template = el.template.value;
  const proposal = Boolean(PROPOSALS[template]);
  const kind = proposal ? "proposal" : template;
  const b = {
    title: el.title.value.trim(), description: el.description.value.trim(), kind,
    electorate: el.electorate.value, scope_building_id: el.scope_building_id.value || null,
    scope_unit: el.scope_unit.value.trim(), secret: el.secret.checked, allow_change: el.allow_change.checked,
    hide_results: el.hide_results.checked, opens_at: toIso(el.opens_at.value), closes_at: toIso(el.closes_at.value),
    notice_days: Number.parseInt(el.notice_days.value || "0", 10), issue_id: el.issue_id.value || null,
    options: [], max_choices: null,
  };
  if (proposal) {
    if (template === "civil_code_278") b.matter = el.matter.value;
    else if (PROPOSALS[template].preset) b.preset = PROPOSALS[template].preset;
    else b.rule = customRule();
  } else {
    b.options = optionRows().map((row) => {
      const option = { label: $('[name="option_label"]', row).value.trim() };
      if (row.dataset.issueId) option.issue_id = row.dataset.issueId;
      return option;
    });
    if (kind === "multiple" || kind === "approval") b.max_choices = Number.parseInt(el.max_choices.value, 10) || null;
    if (kind === "approval") b.allow_stacking = el.allow_stacking.checked;
    if (kind === "ranked") b.ranked_method = el.ranked_method.value;
  }
  return b;
}

/** What the phone can tell before asking the server: the field and its message, or null. */
function firstProblem(b) {
  const template = form.elements.template.value;
  if (!template) return ["template", t("ui.poll_builder.template_missing")];
  if (template === "civil_code_278" && !b.matter) return ["matter", t("ui.poll_builder.matter_missing")];
  if (template === "custom" && !b.rule.measures.length) return ["rule", t("ui.poll_builder.rule.measures_missing")];
  if (!b.title) return ["title", t("ui.poll_builder.title_missing")];
  if (b.kind !== "proposal" && b.options.filter((o) => o.label).length < 2) {
    return ["options", t("ui.poll_builder.options_missing")];
  }
  return null;
}

async function save(mode) {
  clearErrors(form);
  for (const slot of $$("[data-option-error]", form)) slot.textContent = "";
  const b = body();
  const problem = firstProblem(b);
  if (problem) {
    fieldError(form, ...problem);
    return;
  }
  const buttons = $$("[data-save], [data-open-now], [data-schedule]", form);
  for (const button of buttons) busy(button, true);
  try {
    let poll = current
      ? await api("PATCH", pollPath(current.id), { body: { ...b, version: current.version } })
      : await api("POST", communityPath(cid, "/polls"), { body: b });
    current = poll;
    if (!pollId) window.history.replaceState(null, "", `${pollPage(poll.id)}/edit`);
    if (mode !== "draft") poll = await api("POST", pollPath(poll.id, "/open"), { body: { now: mode === "open" } });
    window.location.assign(pollPage(poll.id));
  } catch (error) {
    showProblem(error);
    for (const button of buttons) busy(button, false);
  }
}

/** The server's problem+json on the form: each errors[].loc under its field, the detail on top. */
function showProblem(error) {
  if (error instanceof SignedOut) {
    goSignIn();
    return;
  }
  if (error instanceof ApiError) {
    for (const item of (error.problem.errors || []).slice().reverse()) {
      const loc = (item.loc || []).filter((part) => part !== "body");
      const message = item.msg && item.msg !== error.code ? item.msg : error.message;
      const top = String(loc[0] || "");
      if (top === "options" && typeof loc[1] === "number" && optionRows()[loc[1]]) {
        const row = optionRows()[loc[1]];
        $("[data-option-error]", row).textContent = message;
        $('[name="option_label"]', row).setAttribute("aria-invalid", "true");
        $('[name="option_label"]', row).focus();
      } else if (["preset", "matter", "rule"].includes(top)) {
        const onMatter = form.elements.template.value === "civil_code_278" && !form.elements.matter.value;
        fieldError(form, onMatter ? "matter" : "rule", message);
      } else if (top === "kind") {
        fieldError(form, "template", message);
      } else if (top && !fieldError(form, top, message)) {
        // A field the form does not show: the detail below says it.
      }
    }
  }
  $("[data-form-error]", form).textContent = errorMessage(error);
}
