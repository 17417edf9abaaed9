// /c/{cid}/polls/{id}/paper: a facilitator (committee, grid worker, building leader) enters
// paper and proxy ballots 纸质/代投. Find the person or household on the roll frozen when the poll
// opened, mark their choices with the same big targets the voting page has, name the witness,
// and send it once (one Idempotency-Key per ballot, so a retry on a bad network is not a second
// ballot). The receipt goes on the paper slip. Someone who has voted — on the phone, on paper or
// by proxy — shows how, and the server refuses a second ballot with its reason, shown here.

import { api, ApiError, NetworkError } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, $$, busy, can, capitalised, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fill,
  formatDateTime, joinNodes, pageData, quoted, setSlots, showErrors, tQuoted,
} from "../ui.js";

const cid = cidOfPage();
const { permissions, poll_id: pollId } = pageData();
const PAGE = 20;
const COUNT_PAGE = 100;
const PROPOSAL = ["yes", "no", "abstain"];

let poll;
let entered = 0;
let filter = "false";
let query = "";
let cursor = null;
let chosen = null; // the elector whose ballot is being entered
let ranking = []; // option ids in order of preference (ranked polls)
let idempotencyKey = null;

start(async () => {
  rememberCommunity(cid);
  const [community, loaded] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", pollPath()),
  ]);
  if (!can(permissions, "polls.enter_paper", community.my_roles)) {
    throw new ApiError(403, { detail: t("ui.poll_paper.forbidden") });
  }
  poll = loaded;
  showHead();
  entered = await countEntered();
  showCount();
  wire();
  await loadElectors(true);
  $("[data-loading]").hidden = true;
  $("[data-paper]").hidden = false;
});

function pollPath(rest = "") {
  return communityPath(cid, `/polls/${encodeURIComponent(pollId)}${rest}`);
}

function canEnter() {
  return poll.actions.includes("paper");
}

function showHead() {
  const head = $("[data-poll-head]");
  const meta = [capitalised(t(`ui.poll.status.${poll.status}`)), t(`ui.poll.electorate.${poll.electorate}`)];
  if (poll.scope_label) meta.push(poll.scope_building_id ? quoted(poll.scope_label) : poll.scope_label);
  meta.push(t("ui.poll_paper.turnout", { voted: poll.voted_count, size: poll.electorate_size }));
  setSlots(head, { title: poll.title, meta: joinNodes(meta) });
  $("[data-poll-link]", head).href = `/c/${encodeURIComponent(cid)}/polls/${encodeURIComponent(pollId)}`;
  $("[data-not-open]").hidden = canEnter();
}

/** Paper and proxy ballots already on the roll (by anyone), so the count survives a reload. */
async function countEntered() {
  let count = 0;
  let next = null;
  do {
    const params = new URLSearchParams({ voted: "true", limit: String(COUNT_PAGE) });
    if (next) params.set("cursor", next);
    const page = await api("GET", `${pollPath("/electors")}?${params}`);
    count += page.items.filter((e) => e.channel === "paper" || e.channel === "proxy").length;
    next = page.next_cursor;
  } while (next);
  return count;
}

function showCount() {
  $("[data-count]").textContent = t("ui.poll_paper.count", { n: entered });
}

function wire() {
  $("[data-search]").addEventListener("submit", (event) => {
    event.preventDefault();
    query = event.target.elements.q.value.trim();
    loadElectors(true);
  });
  for (const tab of $$("[data-voted]")) {
    tab.addEventListener("click", () => {
      filter = tab.dataset.voted;
      for (const other of $$("[data-voted]")) other.setAttribute("aria-selected", String(other === tab));
      loadElectors(true);
    });
  }
  $("[data-electors-more]").addEventListener("click", () => loadElectors(false));
  for (const back of $$("[data-back]")) back.addEventListener("click", () => showStep("pick", true));
  $("[data-next]").addEventListener("click", () => {
    query = ""; // the next slip is someone else's
    $("[data-search]").elements.q.value = "";
    showStep("pick", true);
  });
  const form = $("[data-ballot-form]");
  form.addEventListener("change", (event) => {
    if (event.target.name === "channel") showChannel();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(form);
  });
}

function showStep(step, reload = false) {
  $("[data-pick-step]").hidden = step !== "pick";
  $("[data-ballot-form]").hidden = step !== "ballot";
  $("[data-voted-detail]").hidden = step !== "voted";
  $("[data-receipt]").hidden = step !== "receipt";
  window.scrollTo(0, 0);
  if (reload) loadElectors(true);
}

// ---- the roll ---------------------------------------------------------------------------------

async function loadElectors(fresh) {
  const list = $("[data-electors]");
  const more = $("[data-electors-more]");
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (filter !== "all") params.set("voted", filter);
  if (query) params.set("q", query);
  if (!fresh && cursor) params.set("cursor", cursor);
  $("[data-list-loading]").hidden = !fresh;
  busy(more, true);
  try {
    const page = await api("GET", `${pollPath("/electors")}?${params}`);
    const rows = page.items.map(electorRow);
    if (fresh) list.replaceChildren(...rows);
    else list.append(...rows);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    $("[data-electors-empty]").hidden = list.children.length > 0;
  } finally {
    $("[data-list-loading]").hidden = true;
    busy(more, false);
  }
}

function area(elector) {
  return poll.electorate === "owners" ? t("ui.poll_paper.area", { area: elector.weight_area }) : "";
}

function howVoted(elector) {
  if (!elector.voted) return "";
  const channel = t(`ui.poll.channel.${elector.channel}`);
  if (!elector.entered_by_name) return t("ui.poll_paper.voted_via", { channel });
  return tQuoted("ui.poll_paper.voted_entered", {
    channel, by: quoted(elector.entered_by_name), at: formatDateTime(elector.entered_at),
    witness: quoted(elector.witness),
  });
}

function electorRow(elector) {
  const row = fill("tpl-elector", {
    label: elector.label, area: area(elector), how: howVoted(elector),
    state: elector.voted ? t("ui.poll_paper.state.voted", { channel: t(`ui.poll.channel.${elector.channel}`) })
      : t("ui.poll_paper.state.not_voted"),
  });
  const button = $("[data-elector]", row);
  button.dataset.electorId = elector.id;
  button.dataset.hasVoted = String(elector.voted);
  $('[data-slot="state"]', row).className = elector.voted ? "badge badge--success" : "badge";
  for (const slot of $$(".elector-row__meta", row)) slot.hidden = !slot.textContent;
  button.addEventListener("click", () => (elector.voted ? showVoted(elector) : startBallot(elector)));
  return row;
}

function showVoted(elector) {
  const box = $("[data-voted-detail]");
  setSlots(box, {
    label: elector.label, how: t("ui.poll_paper.already", { channel: t(`ui.poll.channel.${elector.channel}`) }),
    channel: t(`ui.poll.channel.${elector.channel}`), entered_by: quoted(elector.entered_by_name || ""),
    entered_at: formatDateTime(elector.entered_at), witness: quoted(elector.witness || ""),
  });
  for (const cell of $$("[data-by-row]", box)) cell.hidden = !elector.entered_by_name;
  showStep("voted");
}

// ---- one ballot -------------------------------------------------------------------------------

function newKey() {
  return window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function startBallot(elector) {
  if (!canEnter()) {
    $("[data-not-open]").hidden = false;
    $("[data-not-open]").scrollIntoView({ block: "center" });
    return;
  }
  chosen = elector;
  idempotencyKey = newKey();
  const form = $("[data-ballot-form]");
  clearErrors(form);
  setSlots(form, { label: elector.label, area: area(elector) });
  form.elements.witness.value = "";
  form.elements.voter_name.value = "";
  form.elements.channel.value = "paper";
  showChannel();
  buildTargets(form);
  busy($("[data-submit]", form), false);
  showStep("ballot");
}

function showChannel() {
  const form = $("[data-ballot-form]");
  const channel = form.elements.channel.value;
  $("[data-voter-label]", form).textContent = t(`ui.poll_paper.voter_name.${channel}`);
  $("[data-voter-hint]", form).textContent = t(`ui.poll_paper.voter_name.${channel}.hint`);
}

function options() {
  if (poll.kind === "proposal") return PROPOSAL.map((id) => ({ id, label: t(`ui.poll_paper.proposal.${id}`) }));
  return poll.options.map((o) => ({ id: o.id, label: quoted(o.label) })); // as the committee wrote them
}

function buildTargets(form) {
  const box = $("[data-choices]", form);
  const kind = poll.kind;
  ranking = [];
  const k = poll.max_choices;
  const hints = {
    single: "ui.poll_paper.hint.single", proposal: "ui.poll_paper.hint.single", multiple: "ui.poll_paper.hint.multiple",
    approval: poll.allow_stacking ? "ui.poll_paper.hint.stacking" : "ui.poll_paper.hint.approval",
    ranked: "ui.poll_paper.hint.ranked", score: "ui.poll_paper.hint.score",
  };
  $("[data-ballot-hint]", form).textContent = t(hints[kind], { k });
  if (kind === "score") {
    box.replaceChildren(...options().map(scoreRow));
    return;
  }
  if (kind === "approval" && poll.allow_stacking) {
    box.replaceChildren(...options().map((o) => stepper(o, box)));
    return;
  }
  const type = kind === "single" || kind === "proposal" ? "radio" : "checkbox";
  box.replaceChildren(...options().map((o) => {
    const target = fill("tpl-target", { label: o.label });
    const input = $("[data-input]", target);
    input.type = type;
    input.name = "choice";
    input.value = o.id;
    if (kind === "proposal") target.classList.add(`target--${o.id}`);
    input.addEventListener("change", () => {
      if (kind === "ranked") {
        ranking = input.checked ? [...ranking, o.id] : ranking.filter((id) => id !== o.id);
        showRanks(box);
      }
    });
    return target;
  }));
}

function showRanks(box) {
  for (const input of $$('[name="choice"]', box)) {
    const rank = $("[data-rank]", input.closest(".target"));
    const place = ranking.indexOf(input.value);
    rank.hidden = place < 0;
    rank.textContent = place < 0 ? "" : String(place + 1);
  }
}

function stepper(option, box) {
  const row = fill("tpl-stepper", { label: option.label });
  row.dataset.optionId = option.id;
  const count = $("[data-count-slot]", row);
  for (const button of $$("[data-step]", row)) {
    button.addEventListener("click", () => {
      const used = $$("[data-stepper]", box).reduce((sum, r) => sum + Number($("[data-count-slot]", r).textContent), 0);
      const step = Number(button.dataset.step);
      const next = Number(count.textContent) + step;
      if (next < 0 || (step > 0 && used >= poll.max_choices)) return;
      count.textContent = String(next);
    });
  }
  return row;
}

function scoreRow(option) {
  const row = fill("tpl-score", { label: option.label });
  row.dataset.optionId = option.id;
  const scale = $("[data-scale]", row);
  for (let n = 1; n <= 5; n += 1) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = `score-${option.id}`;
    input.value = String(n);
    const face = document.createElement("span");
    face.className = "segmented__option";
    face.textContent = String(n);
    label.append(input, face);
    scale.append(label);
  }
  return row;
}

/** The ballot as the API takes it: {choices} or {scores}. */
function ballot(form) {
  const box = $("[data-choices]", form);
  if (poll.kind === "score") {
    const scores = {};
    for (const row of $$("[data-score-row]", box)) {
      const picked = $("input:checked", row);
      if (picked) scores[row.dataset.optionId] = Number(picked.value);
    }
    return { scores };
  }
  if (poll.kind === "approval" && poll.allow_stacking) {
    return {
      choices: $$("[data-stepper]", box).flatMap((row) => Array(Number($("[data-count-slot]", row).textContent))
        .fill(row.dataset.optionId)),
    };
  }
  if (poll.kind === "ranked") return { choices: [...ranking] };
  return { choices: $$('[name="choice"]:checked', box).map((input) => input.value) };
}

async function submit(form) {
  clearErrors(form);
  const votes = ballot(form);
  const empty = votes.scores ? !Object.keys(votes.scores).length : !votes.choices.length;
  if (empty) {
    fieldError(form, votes.scores ? "scores" : "choices", t("ui.poll_paper.choose_first"));
    return;
  }
  const limit = { multiple: poll.max_choices, approval: poll.max_choices }[poll.kind];
  if (limit && !poll.allow_stacking && votes.choices.length > limit) {
    fieldError(form, "choices", t("ui.poll_paper.too_many", { k: limit }));
    return;
  }
  const witness = form.elements.witness.value.trim();
  if (!witness) {
    fieldError(form, "witness", t("ui.poll_paper.witness_missing"));
    return;
  }
  const channel = form.elements.channel.value;
  const body = { ...votes, elector_id: chosen.id, channel, witness, voter_name: form.elements.voter_name.value.trim() };
  const button = $("[data-submit]", form);
  busy(button, true);
  try {
    const cast = await api("POST", pollPath("/paper-ballots"), { body, idempotencyKey });
    entered += 1;
    showCount();
    const done = $("[data-receipt]");
    setSlots(done, {
      who: tQuoted("ui.poll_paper.done_who", { label: quoted(chosen.label),
        channel: t(`ui.poll.channel.${cast.channel}`) }),
      receipt: cast.receipt, seq: t("ui.poll_paper.seq", { seq: cast.seq }),
    });
    showStep("receipt");
  } catch (error) {
    showErrors(form, error);
    if (!(error instanceof NetworkError)) idempotencyKey = newKey(); // a definite answer: the next try is new
    if (error instanceof ApiError && error.status === 409) {
      $("[data-form-error]", form).textContent = errorMessage(error);
      return; // refused for good: the ballot stays unsent, the button stays off
    }
    busy(button, false);
  }
}
