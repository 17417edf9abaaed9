// /c/{cid}/polls/{id}: one poll 表决 — the question and its rule in plain words, who votes, the
// ballot for its kind with big targets, the receipt the phone keeps, live results (or none while
// they are hidden), the notice period 公示 with its objections, the committee's steps, the
// chain download and the share link.
//
// A ballot goes out through the offline queue (one Idempotency-Key for life): offline it is kept
// and sent once when the network returns; its answer (the receipt) is kept on the queue item, so
// the receipt is saved here even when the ballot went out later.
//
// What was chosen is kept on this phone alone, beside the receipt and (in a secret poll) the check
// code 核对码: the server never tells anyone the choice again, not even the voter. After the close
// the phone looks for its check code in the published ballot box and shows the ballot as counted.

import { api, NetworkError, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { listWrites, onQueueChange, submitWrite } from "../queue.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, $$, busy, cidOfPage, clearErrors, communityPath, confirmTap, copyText, errorMessage, fieldError, fill,
  formatDateTime, goSignIn, joinNodes, pageData, quoted, setQuotedText, setSlots, showErrors, toast, wireShare,
} from "../ui.js";
import { pollBadges, timeLine, turnoutText } from "./poll-parts.js";

const cid = cidOfPage();
const { poll_id: pollId } = pageData();
const base = communityPath(cid, `/polls/${encodeURIComponent(pollId)}`);
const BALLOTS = `${base}/ballots`;
const RECEIPT_KEY = `wg_receipt:${pollId}`;
const ACCESS = "wg_access"; // api.js keeps the bearer token here; the stream needs it as a header
const POLL_EVERY_MS = 10_000;

let poll = null;
let ballot = null; // the form's state for this kind: {choices(), reset(), ...}
let changing = false;
let live = null; // {stop()} while results stream or are polled
let clock = null;
let boxCheck = null; // after the close: {check, found, choices} — this phone's ballot found in the box

start(async () => {
  rememberCommunity(cid);
  wire();
  await loadPoll();
  await syncQueue();
  onQueueChange(() => {
    syncQueue().catch(() => undefined);
  });
  $("[data-loading]").hidden = true;
  $("[data-poll]").hidden = false;
});

// ---- loading and the head card --------------------------------------------------------------

async function loadPoll() {
  const fresh = await api("GET", base, { keep: true });
  const statusChanged = poll && poll.status !== fresh.status;
  poll = fresh;
  render();
  if (statusChanged) toast(t("ui.poll_page.now_status", { status: t(`ui.poll.status.${poll.status}`) }));
  await Promise.all([loadResults(), loadObjections(), findInBox()]);
  startLive();
}

/** After a secret poll closes: is this phone's ballot in the published box, and as what? */
async function findInBox() {
  const kept = storedReceipt();
  if (!kept || !kept.check || !["closed", "notice", "final"].includes(poll.status)) return;
  if (boxCheck && boxCheck.check === kept.check) return;
  const chain = await api("GET", `${base}/chain`);
  const mine = (chain.ballots || []).find((b) => b.check === kept.check);
  const shown = mine ? choiceText(poll.kind === "score" ? { scores: Object.fromEntries(mine.choices) }
    : { choices: mine.choices }) : "";
  boxCheck = { check: kept.check, found: Boolean(mine), choices: shown };
  renderVote();
}

function render() {
  document.title = `${poll.title} · ${t("ui.app.name")}`;
  const root = $("[data-poll]");
  root.dataset.status = poll.status;
  root.dataset.kind = poll.kind;
  $("[data-badges]", root).replaceChildren(...pollBadges(poll));
  const owners = poll.electorate === "owners";
  setSlots(root, {
    title: poll.title,
    description: poll.description,
    countdown: timeLine(poll),
    rule: poll.rule_plain || "",
    how: howText(),
    electorate: [t(`ui.poll.electorate.${poll.electorate}`),
      poll.status === "draft" || poll.status === "scheduled" ? t("ui.poll_page.frozen_at_open")
        : t(owners ? "ui.poll_page.size_owners" : poll.electorate === "households" ? "ui.poll_page.size_households"
          : "ui.poll_page.size_people", { size: poll.electorate_size, area: poll.electorate_area })].join(" · "),
    scope: poll.scope_building_id ? quoted(poll.scope_label) : poll.scope_label, // a building's name as written
    turnout: turnoutText(poll),
    opens: formatDateTime(poll.opened_at || poll.opens_at) || t("ui.poll_page.not_yet"),
    closes: formatDateTime(poll.closed_at || poll.closes_at) || t("ui.poll_page.closes_by_hand"),
    change: t(poll.allow_change ? "ui.poll_page.change_allowed" : "ui.poll_page.change_forbidden"),
  });
  $('[data-slot="description"]', root).hidden = !poll.description;
  $("[data-rule]", root).hidden = !poll.rule_plain;
  $("[data-secrecy]", root).textContent = t(poll.secret ? "ui.poll_page.secrecy_secret" : "ui.poll_page.secrecy_named");
  $("[data-secrecy-more]", root).hidden = !poll.secret;
  const disclosure = $("[data-area-disclosure]", root);
  disclosure.hidden = !poll.identifiable_by_area;
  if (poll.identifiable_by_area) {
    disclosure.textContent = t("ui.poll_page.area_disclosure", { n: poll.identifiable_by_area });
  }
  const issueRow = $("[data-issue-link-row]", root);
  issueRow.hidden = !poll.issue_id;
  if (poll.issue_id) $("[data-issue-link]", issueRow).href = issuePath(poll.issue_id);
  clearInterval(clock);
  if (poll.status === "open") {
    clock = setInterval(() => {
      $('[data-slot="countdown"]', root).textContent = timeLine(poll);
    }, 30_000);
  }
  renderCommittee();
  renderVote();
  $("[data-integrity]").hidden = poll.status === "draft";
  $("[data-chain-head]").textContent = poll.chain_head ? `${poll.chain_head.slice(0, 16)}… (${poll.chain_seq})` : "";
  $("[data-share]").hidden = poll.status === "draft";
}

function howText() {
  const k = poll.max_choices;
  if (poll.kind === "multiple") return t("ui.poll_page.how.multiple", { k });
  if (poll.kind === "approval") {
    return t(poll.allow_stacking ? "ui.poll_page.how.approval_stacking" : "ui.poll_page.how.approval", { k });
  }
  if (poll.kind === "ranked") return t(`ui.poll_page.how.ranked_${poll.ranked_method}`);
  return t(`ui.poll_page.how.${poll.kind}`);
}

function issuePath(issueId) {
  return `/c/${encodeURIComponent(cid)}/issues/${encodeURIComponent(issueId)}`;
}

function optionLabel(option) {
  return poll.kind === "proposal" ? t(`ui.poll_page.proposal.${option.id}`) : option.label;
}

// ---- the committee's steps -------------------------------------------------------------------

function renderCommittee() {
  const actions = new Set(poll.actions);
  const section = $("[data-committee]");
  const open = $('[data-do="open"]', section);
  open.hidden = !actions.has("open");
  $('[data-do="close"]', section).hidden = !actions.has("close");
  const edit = $("[data-edit-link]", section);
  edit.hidden = !actions.has("edit");
  edit.href = `/c/${encodeURIComponent(cid)}/polls/${encodeURIComponent(pollId)}/edit`;
  const paper = $("[data-paper-link]", section);
  paper.hidden = !actions.has("paper");
  paper.href = `/c/${encodeURIComponent(cid)}/polls/${encodeURIComponent(pollId)}/paper`;
  $("[data-publish-form]", section).hidden = !actions.has("publish");
  section.hidden = !["open", "close", "edit", "paper", "publish"].some((a) => actions.has(a));
}

async function step(button, action, body) {
  busy(button, true);
  try {
    poll = await api("POST", `${base}/${action}`, { body });
    toast(t(`ui.poll_page.done.${action}`));
    await loadPoll();
  } catch (error) {
    if (error instanceof SignedOut) goSignIn();
    else toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
  }
}

// ---- voting ------------------------------------------------------------------------------------

function storedReceipt() {
  try {
    const kept = JSON.parse(localStorage.getItem(RECEIPT_KEY) || "null");
    return kept && kept.receipt ? kept : null;
  } catch {
    return null;
  }
}

/** The ballot's choice in words, from what this phone sent. */
function choiceText(body) {
  const label = (id) => (poll.kind === "proposal" ? t(`ui.poll_page.proposal.${id}`)
    : (poll.options.find((o) => o.id === id) || { label: "?" }).label);
  if (!body) return "";
  if (body.scores) return Object.entries(body.scores).map(([id, n]) => `${label(id)} ${n}`).join("、");
  return (body.choices || []).map(label).join("、");
}

function keepReceipt(answer, body) {
  const kept = storedReceipt();
  if (kept && kept.seq >= answer.seq) return false;
  try {
    localStorage.setItem(RECEIPT_KEY, JSON.stringify({
      receipt: answer.receipt, seq: answer.seq, hash: answer.hash, at: new Date().toISOString(),
      check: answer.check_code || null, choice: choiceText(body),
    }));
  } catch {
    // Storage blocked: the receipt is on the screen, to be written down.
  }
  return true;
}

function renderVote() {
  const section = $("[data-vote-section]");
  const me = poll.me || { eligible: false, voted: false, may_change: false };
  const kept = storedReceipt();
  const household = poll.electorate !== "residents";
  const started = !["draft", "scheduled"].includes(poll.status);
  $("[data-household-voted]", section).hidden = !(me.voted && household);
  $("[data-person-voted]", section).hidden = !(me.voted && !household);
  const ineligible = $("[data-ineligible]", section);
  ineligible.textContent = me.reason_text || "";
  ineligible.hidden = !me.reason_text || !["open", "notice"].includes(poll.status);
  const box = $("[data-receipt-box]", section);
  box.hidden = !kept;
  if (kept) {
    $("[data-receipt-code]", box).textContent = kept.receipt;
    $("[data-receipt-check]", box).href = `/receipts/${encodeURIComponent(kept.receipt)}`;
    for (const row of $$("[data-my-choice-row]", box)) row.hidden = !kept.choice;
    $("[data-my-choice]", box).textContent = kept.choice || "";
    for (const row of $$("[data-check-code-row]", box)) row.hidden = !kept.check;
    $("[data-check-code]", box).textContent = kept.check || "";
    const inBox = $("[data-in-box]", box);
    inBox.hidden = !boxCheck || boxCheck.check !== kept.check;
    if (boxCheck && boxCheck.check === kept.check) {
      inBox.textContent = boxCheck.found ? t("ui.poll_page.in_box", { choice: boxCheck.choices })
        : t("ui.poll_page.not_in_box");
      inBox.classList.toggle("notice--success", boxCheck.found);
      inBox.classList.toggle("notice--warning", !boxCheck.found);
    }
  }
  const mayVote = poll.actions.includes("vote");
  const canChange = mayVote && me.voted && me.may_change && Boolean(kept);
  const showForm = mayVote && (!me.voted || (canChange && changing));
  $("[data-change-vote]", section).hidden = !(canChange && !changing);
  const form = $("[data-ballot]", section);
  if (showForm && form.hidden) buildBallot(form);
  form.hidden = !showForm;
  section.hidden = !started || !(mayVote || me.voted || !ineligible.hidden || kept);
}

function buildBallot(form) {
  clearErrors(form);
  const box = $("[data-options]", form);
  const builders = { single: choiceBallot, multiple: choiceBallot, proposal: choiceBallot, approval: dotBallot,
    ranked: rankBallot, score: scoreBallot };
  ballot = (builders[poll.kind] || choiceBallot)(box);
  $("[data-ballot-hint]", form).textContent = howText();
  $("[data-rank-tools]", form).hidden = poll.kind !== "ranked";
  confirming(form, false);
  ballot.update();
}

function linkIssue(node, option) {
  const link = $("[data-issue]", node);
  if (link && option.issue_id) {
    link.href = issuePath(option.issue_id);
    link.hidden = false;
    link.addEventListener("click", (event) => event.stopPropagation());
  }
}

function counter(text) {
  const element = $("[data-counter]");
  element.textContent = text || "";
  element.hidden = !text;
}

/** single, multiple (at most k) and proposal: big radio or check cards. */
function choiceBallot(box) {
  const multiple = poll.kind === "multiple";
  const limit = multiple ? poll.max_choices || poll.options.length : 1;
  const nodes = poll.options.map((option) => {
    const node = fill("tpl-choice", { label: optionLabel(option) });
    const input = $("[data-input]", node);
    input.type = multiple ? "checkbox" : "radio";
    input.name = "choice";
    input.value = option.id;
    node.dataset.option = option.id;
    if (poll.kind === "proposal") node.classList.add(`choice--${option.id}`);
    linkIssue(node, option);
    input.addEventListener("change", () => state.update());
    return node;
  });
  box.className = `ballot__options ballot__options--${poll.kind}`;
  box.replaceChildren(...nodes);
  const state = {
    choices: () => $$("[data-input]", box).filter((input) => input.checked).map((input) => input.value),
    update() {
      const chosen = state.choices().length;
      for (const input of $$("[data-input]", box)) {
        input.disabled = multiple && !input.checked && chosen >= limit;
        input.closest(".choice").classList.toggle("is-chosen", input.checked);
      }
      counter(multiple ? t("ui.poll_page.chosen", { n: chosen, k: limit }) : "");
    },
    reset() {
      for (const input of $$("[data-input]", box)) input.checked = false;
      state.update();
    },
  };
  return state;
}

/** approval / dot voting: + adds a dot, − takes one back; stacking lets dots pile on one option. */
function dotBallot(box) {
  const dots = poll.max_choices || 1;
  const counts = new Map(poll.options.map((o) => [o.id, 0]));
  const rows = poll.options.map((option) => {
    const node = fill("tpl-dots", { label: option.label });
    node.dataset.option = option.id;
    linkIssue(node, option);
    // The row is a group named by its option (user content); its buttons say what they do.
    $('[data-slot="label"]', node).id = `dots-${option.id}`;
    node.setAttribute("aria-labelledby", `dots-${option.id}`);
    $("[data-plus]", node).setAttribute("aria-label", t("ui.poll_page.dot_add"));
    $("[data-minus]", node).setAttribute("aria-label", t("ui.poll_page.dot_remove"));
    $("[data-plus]", node).addEventListener("click", () => {
      if (used() < dots && (poll.allow_stacking || counts.get(option.id) === 0)) {
        counts.set(option.id, counts.get(option.id) + 1);
        state.update();
      }
    });
    $("[data-minus]", node).addEventListener("click", () => {
      if (counts.get(option.id) > 0) {
        counts.set(option.id, counts.get(option.id) - 1);
        state.update();
      }
    });
    return node;
  });
  box.className = "ballot__options ballot__options--dots";
  box.replaceChildren(...rows);
  const used = () => [...counts.values()].reduce((a, b) => a + b, 0);
  const state = {
    choices: () => poll.options.flatMap((o) => Array(counts.get(o.id)).fill(o.id)),
    update() {
      const left = dots - used();
      for (const row of rows) {
        const n = counts.get(row.dataset.option);
        $("[data-count]", row).textContent = String(n);
        $("[data-dots]", row).textContent = "●".repeat(n);
        $("[data-minus]", row).disabled = n === 0;
        $("[data-plus]", row).disabled = left === 0 || (!poll.allow_stacking && n > 0);
        row.classList.toggle("is-chosen", n > 0);
      }
      counter(t("ui.poll_page.dots_left", { n: left, k: dots }));
    },
    reset() {
      for (const id of counts.keys()) counts.set(id, 0);
      state.update();
    },
  };
  return state;
}

/** ranked choice: tap in order of preference (1, 2, 3…); tap a ranked one to take it and those after it back. */
function rankBallot(box) {
  const order = [];
  const cards = poll.options.map((option) => {
    const node = fill("tpl-rank", { label: option.label });
    node.dataset.option = option.id;
    node.addEventListener("click", () => {
      const at = order.indexOf(option.id);
      if (at >= 0) order.splice(at);
      else order.push(option.id);
      state.update();
    });
    return node;
  });
  box.className = "ballot__options ballot__options--ranked";
  box.replaceChildren(...cards);
  const state = {
    choices: () => [...order],
    update() {
      for (const card of cards) {
        const place = order.indexOf(card.dataset.option) + 1;
        $("[data-place]", card).textContent = place ? String(place) : "";
        $("[data-rank-text]", card).textContent = place ? t("ui.poll_page.rank_place", { n: place })
          : t("ui.poll_page.rank_tap");
        card.setAttribute("aria-pressed", place ? "true" : "false");
        card.classList.toggle("is-chosen", Boolean(place));
      }
      counter(t("ui.poll_page.ranked_count", { n: order.length, k: poll.options.length }));
    },
    reset() {
      order.length = 0;
      state.update();
    },
  };
  return state;
}

/** score 1–5: five buttons per option. */
function scoreBallot(box) {
  const scores = new Map();
  const rows = poll.options.map((option) => {
    const node = fill("tpl-score", { label: option.label });
    node.dataset.option = option.id;
    linkIssue(node, option);
    const buttons = [1, 2, 3, 4, 5].map((value) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn score-btn";
      button.textContent = String(value);
      button.dataset.score = String(value);
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label", t("ui.poll_page.score_label", { n: value })); // in the option's fieldset
      button.addEventListener("click", () => {
        if (scores.get(option.id) === value) scores.delete(option.id);
        else scores.set(option.id, value);
        state.update();
      });
      return button;
    });
    $("[data-scores]", node).replaceChildren(...buttons);
    return node;
  });
  box.className = "ballot__options ballot__options--score";
  box.replaceChildren(...rows);
  const state = {
    choices: () => [],
    scores: () => Object.fromEntries(scores),
    update() {
      for (const row of rows) {
        const chosen = scores.get(row.dataset.option);
        for (const button of $$("[data-score]", row)) {
          const on = Number(button.dataset.score) === chosen;
          button.setAttribute("aria-pressed", on ? "true" : "false");
          button.classList.toggle("btn--primary", on);
        }
      }
      counter(t("ui.poll_page.scored", { n: scores.size, k: poll.options.length }));
    },
    reset() {
      scores.clear();
      state.update();
    },
  };
  return state;
}

function confirming(form, on) {
  form.dataset.confirming = on ? "1" : "";
  const box = $("[data-confirm]", form);
  box.hidden = !on;
  $("[data-confirm-back]", form).hidden = !on;
  for (const input of $$("[data-input]", form)) input.disabled = on;
  $(".ballot__submit", form).textContent = t(on ? "ui.poll_page.confirm_submit" : "ui.poll_page.submit");
  if (on) {
    const chosen = ballot.choices()[0];
    $("[data-confirm-text]", box).textContent = t(poll.allow_change ? "ui.poll_page.confirm_text"
      : "ui.poll_page.confirm_text_final", { choice: t(`ui.poll_page.proposal.${chosen}`) });
    box.dataset.choice = chosen;
  }
}

async function submitBallot(form) {
  clearErrors(form);
  const body = poll.kind === "score" ? { scores: ballot.scores() } : { choices: ballot.choices() };
  const empty = poll.kind === "score" ? Object.keys(body.scores).length === 0 : body.choices.length === 0;
  if (empty) {
    $("[data-form-error]", form).textContent = t("ui.poll_page.choose_first");
    return;
  }
  if (poll.kind === "proposal" && form.dataset.confirming !== "1") {
    confirming(form, true);
    return;
  }
  const kept = storedReceipt();
  if (poll.me && poll.me.voted && kept) body.receipt = kept.receipt;
  const submit = $(".ballot__submit", form);
  busy(submit, true);
  try {
    const outcome = await submitWrite("POST", BALLOTS, body, { label: "ui.poll_page.queue_label", keepResponse: true });
    if (outcome.status === "sent") {
      keepReceipt(outcome.response, body);
      changing = false;
      toast(t(outcome.response.changed ? "ui.poll_page.changed" : "ui.poll_page.voted"));
      form.hidden = true;
      await loadPoll();
      $("[data-receipt-box]").scrollIntoView({ block: "center" });
    } else {
      form.hidden = true;
      $("[data-queued-note]").hidden = false;
    }
  } catch (error) {
    if (poll.kind === "proposal") confirming(form, false);
    showErrors(form, error);
  } finally {
    busy(submit, false);
  }
}

/** Ballots for this poll still on the phone: say so; one that went out later leaves its receipt here. */
async function syncQueue() {
  const writes = (await listWrites()).filter((item) => item.url === BALLOTS && item.method === "POST");
  const waiting = writes.some((item) => item.status === "queued" || item.status === "sending");
  let arrived = false;
  for (const item of writes) {
    if (item.status === "sent" && item.response && item.response.receipt) {
      arrived = keepReceipt(item.response, item.body) || arrived;
    }
  }
  $("[data-queued-note]").hidden = !waiting;
  if (waiting) {
    $("[data-ballot]").hidden = true;
    $("[data-vote-section]").hidden = false;
  }
  if (arrived) {
    toast(t("ui.poll_page.queued_sent"));
    await loadPoll();
  }
}

// ---- results ----------------------------------------------------------------------------------

async function loadResults() {
  if (poll.status === "draft") {
    renderResults(null);
    return;
  }
  renderResults(await api("GET", `${base}/results`));
}

function pct(part, whole) {
  if (!whole) return 0;
  return Math.round((1000 * Number(part)) / Number(whole)) / 10;
}

function renderResults(view) {
  const box = $("[data-results]");
  const hidden = (poll.hide_results || poll.secret) && !view?.visible && poll.status !== "draft";
  $("[data-results-hidden]").hidden = !hidden;
  $("[data-results-hidden]").textContent = t(poll.secret ? "ui.poll_page.results_hidden_secret"
    : "ui.poll_page.results_hidden");
  const none = !hidden && (!view || !view.visible || !view.result);
  $("[data-results-none]").hidden = !none;
  box.hidden = hidden || none;
  if (hidden || none) return;
  const result = view.result;
  box.dataset.kind = result.kind;
  const explanation = result[document.documentElement.lang === "zh-CN" ? "explanation_zh" : "explanation_en"];
  const summary = $("[data-results-summary]", box);
  setQuotedText(summary, explanation || "", poll.options.map((o) => o.label));
  summary.classList.toggle("is-passed", result.passed === true);
  summary.classList.toggle("is-failed", result.passed === false);
  summary.classList.toggle("is-provisional", Boolean(view.provisional)); // where things stand, not a headline
  $("[data-provisional]", box).hidden = !view.provisional;
  const owners = poll.electorate === "owners";
  $("[data-results-turnout]", box).textContent = [
    turnoutText({ ...poll, voted_count: view.voted_count, electorate_size: view.electorate_size }),
    owners ? t("ui.poll_page.area_turnout", { area: result.participating_area, total: view.electorate_area }) : "",
  ].filter(Boolean).join(" · ");
  $("[data-bars]", box).replaceChildren(...bars(result, owners));
  renderCriteria(result, view.provisional);
  renderRounds(result);
  renderBorda(result);
  renderLots(result);
}

function bar(id, label, numbers, share, { winner = false, extra = "" } = {}) {
  const node = fill("tpl-bar", { label, numbers, extra });
  node.dataset.option = id;
  node.classList.toggle("is-winner", winner);
  $("[data-fill]", node).style.width = `${Math.max(0, Math.min(100, share))}%`;
  $('[data-slot="extra"]', node).hidden = !extra;
  return node;
}

function bars(result, owners) {
  const winner = result.winner;
  if (result.kind === "proposal") {
    const total = result.participants;
    return ["yes", "no", "abstain"].map((id) => bar(id, t(`ui.poll_page.proposal.${id}`),
      t("ui.poll_page.votes_pct", { n: result[id], pct: pct(result[id], total) }), pct(result[id], total),
      { extra: owners ? t("ui.poll_page.area", { area: result[`${id}_area`] }) : "" }));
  }
  if (result.kind === "score") {
    return byMost(result.options, (o) => (o.mean === null ? -1 : Number(o.mean))).map((o) => bar(o.id, o.label,
      o.mean === null ? t("ui.poll_page.no_scores") : t("ui.poll_page.mean", { mean: o.mean, n: o.raters }),
      o.mean === null ? 0 : (100 * Number(o.mean)) / 5, { winner: o.id === winner }));
  }
  if (result.kind === "ranked" && result.points) {
    const top = Math.max(1, ...result.points.map((p) => p.points));
    // The count's own order: most points first, a tie as the lot drawn put it.
    let ordered = (result.order || []).map((id) => result.points.find((p) => p.id === id)).filter(Boolean);
    if (ordered.length !== result.points.length) ordered = byMost(result.points, (p) => p.points);
    return ordered.map((p) => bar(p.id, p.label, t("ui.poll_page.points", { n: p.points }),
      (100 * p.points) / top, { winner: p.id === winner }));
  }
  if (result.kind === "ranked") {
    const last = result.rounds[result.rounds.length - 1];
    const counts = last ? last.counts : {};
    const total = last ? last.continuing : 0;
    return result.options.map((o) => bar(o.id, o.label,
      o.id in counts ? t("ui.poll_page.votes_pct", { n: counts[o.id], pct: pct(counts[o.id], total) })
        : t("ui.poll_page.eliminated"), o.id in counts ? pct(counts[o.id], total) : 0, { winner: o.id === winner }));
  }
  // single, multiple, approval: share of ballots (approval: of all dots placed)
  const dots = result.options.reduce((sum, o) => sum + o.count, 0);
  const whole = result.kind === "approval" ? dots : result.ballots;
  return byMost(result.options, (o) => o.count).map((o) => bar(o.id, o.label,
    t(result.kind === "approval" ? "ui.poll_page.dots_pct" : "ui.poll_page.votes_pct",
      { n: o.count, pct: pct(o.count, whole) }), pct(o.count, whole),
    { winner: o.id === winner && o.count > 0,
      extra: owners ? t("ui.poll_page.area", { area: o.area }) : "" }));
}

/** Most first (votes, dots, points, mean score); equal ones keep the order the poll gave them. */
function byMost(items, measure) {
  return items.slice().sort((a, b) => measure(b) - measure(a));
}

/** Each threshold and where it stands; while voting goes on one not reached is "not yet", not ✗. */
function renderCriteria(result, provisional) {
  const box = $("[data-criteria-box]");
  const criteria = result.criteria || [];
  box.hidden = criteria.length === 0;
  $("[data-criteria]", box).replaceChildren(...criteria.map((c) => {
    const li = document.createElement("li");
    const state = c.met ? "met" : provisional ? "pending" : "unmet";
    li.className = `criterion is-${state}`;
    li.dataset.criterion = c.name;
    const mark = document.createElement("span");
    mark.className = "criterion__mark";
    mark.textContent = { met: "✓", pending: "…", unmet: "✗" }[state];
    mark.setAttribute("aria-label", t({ met: "ui.poll_page.met", pending: "ui.poll_page.not_yet_met",
      unmet: "ui.poll_page.unmet" }[state]));
    const text = document.createElement("span");
    const shown = Number(c.denominator) ? `${pct(c.numerator, c.denominator)}% ` : "";
    text.textContent = `${t(`ui.poll_page.criterion.${c.name}`)}：${shown}(${trim(c.numerator)}/${trim(c.denominator)}) `
      + `${c.met ? c.comparator : negate(c.comparator)} ${c.required}`;
    li.append(mark, text);
    return li;
  }));
}

function trim(number) {
  return String(number).replace(/\.00$/, "");
}

function negate(comparator) {
  return { "≥": "<", ">": "≤" }[comparator] || comparator;
}

function labelOf(result, id) {
  const option = (result.options || result.points || []).find((o) => o.id === id)
    || poll.options.find((o) => o.id === id);
  return option ? option.label : id;
}

function renderRounds(result) {
  const box = $("[data-rounds-box]");
  const rounds = result.kind === "ranked" && result.rounds ? result.rounds : [];
  box.hidden = rounds.length === 0;
  $("[data-rounds]", box).replaceChildren(...rounds.map((round) => {
    const table = document.createElement("table");
    table.className = "round";
    table.dataset.round = String(round.number);
    const caption = document.createElement("caption");
    caption.textContent = t("ui.poll_page.round", { n: round.number });
    table.append(caption);
    const body = document.createElement("tbody");
    const entries = Object.entries(round.counts).sort((a, b) => b[1] - a[1]);
    for (const [id, count] of entries) {
      const row = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = labelOf(result, id);
      name.dataset.userContent = "";
      const cell = document.createElement("td");
      cell.textContent = String(count);
      const note = document.createElement("td");
      if (id === round.elected) note.textContent = t("ui.poll_page.elected");
      if (id === round.eliminated) note.textContent = t("ui.poll_page.eliminated");
      row.classList.toggle("is-elected", id === round.elected);
      row.classList.toggle("is-eliminated", id === round.eliminated);
      row.append(name, cell, note);
      body.append(row);
    }
    table.append(body);
    const foot = document.createElement("p");
    foot.className = "card__meta";
    foot.textContent = t("ui.poll_page.round_foot", { continuing: round.continuing, exhausted: round.exhausted });
    const wrap = document.createElement("div");
    wrap.className = "round-wrap";
    wrap.append(table, foot);
    return wrap;
  }));
}

function renderBorda(result) {
  const box = $("[data-borda-box]");
  const order = result.kind === "ranked" && result.order ? result.order : [];
  box.hidden = order.length === 0;
  $("[data-borda]", box).replaceChildren(...order.map((id) => {
    const li = document.createElement("li");
    li.textContent = labelOf(result, id);
    return li;
  }));
}

function renderLots(result) {
  const lots = [result.tie_break, ...(result.tie_breaks || []),
    ...((result.rounds || []).map((r) => r.tie_break))].filter(Boolean);
  const box = $("[data-lots]");
  box.hidden = lots.length === 0;
  // Who won the draw in words; the seed (a 64-character hash) folded away for whoever checks it.
  const seeds = document.createElement("details");
  seeds.className = "tech-details";
  const summary = document.createElement("summary");
  summary.textContent = t("ui.poll_page.tech_details");
  seeds.append(summary, ...[...new Set(lots.map((lot) => lot.seed))].map((seed) => {
    const p = document.createElement("p");
    p.className = "hash";
    p.textContent = t("ui.poll_page.lot_seed", { seed });
    return p;
  }));
  box.replaceChildren(...lots.map((lot) => {
    const p = document.createElement("p");
    p.textContent = t("ui.poll_page.lot_plain", {
      tied: lot.tied.map((id) => labelOf(result, id)).join(t("ui.common.list_sep")), drawn: labelOf(result, lot.drawn) });
    return p;
  }), seeds);
}

// ---- live results: an SSE stream read with fetch (EventSource cannot send the token) -----------

function startLive() {
  if (live) live.stop();
  live = null;
  $("[data-live]").hidden = true;
  if (poll.status !== "open") return; // a secret poll streams its turnout; the counts come at the close
  const controller = new AbortController();
  let timer = null;
  let stopped = false;
  const fallback = () => {
    if (stopped) return;
    $("[data-live]").hidden = !poll.results_visible; // turnout alone is no live result
    timer = setInterval(() => {
      api("GET", `${base}/results`).then(onSnapshot).catch(() => undefined);
    }, POLL_EVERY_MS);
  };
  live = {
    stop() {
      stopped = true;
      controller.abort();
      clearInterval(timer);
    },
  };
  streamResults(controller.signal).then(() => {
    // The server ended the stream (a restart, a proxy's limit): poll from now on.
    fallback();
  }).catch(() => fallback());
}

async function streamResults(signal, retried = false) {
  const token = localStorage.getItem(ACCESS);
  const response = await fetch(`/api/v1${base}/results/stream`, {
    headers: { Accept: "text/event-stream", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    credentials: "same-origin", signal,
  });
  if (response.status === 401 && !retried) {
    await api("GET", `${base}/results`); // refreshes the token the ordinary way
    return streamResults(signal, true);
  }
  if (!response.ok || !response.body) throw new NetworkError(`stream ${response.status}`);
  $("[data-live]").hidden = !poll.results_visible; // turnout alone is no live result
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      frame(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
    }
  }
}

function frame(text) {
  let event = "message";
  const data = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (event !== "results" || data.length === 0) return;
  try {
    onSnapshot(JSON.parse(data.join("\n")));
  } catch {
    // A broken frame: the next one brings the whole view again.
  }
}

function onSnapshot(view) {
  if (view.status !== poll.status) {
    loadPoll().catch(() => undefined);
    return;
  }
  poll.voted_count = view.voted_count;
  setSlots($("[data-poll]"), { turnout: turnoutText(poll) });
  renderResults(view);
}

// ---- notice period: objections ----------------------------------------------------------------

async function loadObjections() {
  const section = $("[data-notice-section]");
  const shown = poll.status === "notice" || poll.status === "final";
  section.hidden = !shown;
  if (!shown) return;
  const notice = [poll.notice_note ? quoted(poll.notice_note) : "",
    poll.notice_ends_at ? t(poll.status === "notice" ? "ui.poll_page.notice_until" : "ui.poll_page.notice_ended",
      { when: formatDateTime(poll.notice_ends_at) }) : ""];
  $("[data-notice-text]", section).replaceChildren(joinNodes(notice, " "));
  const rows = await api("GET", `${base}/objections`);
  const answering = poll.actions.includes("answer");
  $("[data-objections]", section).replaceChildren(...rows.map((o) => objectionCard(o, answering)));
  $("[data-objections-empty]", section).hidden = rows.length > 0;
  $("[data-object-form]", section).hidden = !poll.actions.includes("object");
}

function objectionCard(o, answering) {
  const node = fill("tpl-objection", {
    when: [formatDateTime(o.created_at), o.mine ? t("ui.poll_page.mine") : ""].filter(Boolean).join(" · "),
    body: o.body, answer: o.answer,
  });
  node.dataset.objection = o.id;
  $("[data-answer]", node).hidden = !o.answer;
  const form = $("[data-answer-form]", node);
  form.hidden = !(answering && !o.answer);
  const area = form.elements.answer;
  area.id = `answer-${o.id}`;
  $("[data-answer-label]", form).htmlFor = area.id;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const answer = area.value.trim();
    if (!answer) {
      $("[data-form-error]", form).textContent = t("ui.poll_page.answer_missing");
      return;
    }
    const button = $('[type="submit"]', form);
    busy(button, true);
    try {
      const saved = await api("POST", `${base}/objections/${encodeURIComponent(o.id)}/answer`, { body: { answer } });
      node.replaceWith(objectionCard(saved, answering));
    } catch (error) {
      showErrors(form, error);
    } finally {
      busy(button, false);
    }
  });
  return node;
}

// ---- wiring -----------------------------------------------------------------------------------

function wire() {
  const form = $("[data-ballot]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitBallot(form);
  });
  $("[data-confirm-back]", form).addEventListener("click", () => confirming(form, false));
  $("[data-rank-reset]", form).addEventListener("click", () => ballot && ballot.reset());
  $("[data-change-vote]").addEventListener("click", () => {
    changing = true;
    renderVote();
    form.scrollIntoView({ block: "start" });
  });
  $("[data-receipt-copy]").addEventListener("click", async () => {
    const kept = storedReceipt();
    if (kept) toast(await copyText(kept.receipt) ? t("ui.poll_page.receipt_copied") : t("ui.invites.copy_failed"));
  });

  const committee = $("[data-committee]");
  const open = $('[data-do="open"]', committee);
  open.addEventListener("click", () => step(open, "open", { now: true }));
  const close = $('[data-do="close"]', committee);
  confirmTap(close, t("ui.poll_page.do.close_confirm"), () => step(close, "close"));
  const publish = $("[data-publish-form]", committee);
  publish.addEventListener("submit", (event) => {
    event.preventDefault();
    step($('[type="submit"]', publish), "publish", { note: publish.elements.note.value.trim() });
  });

  const object = $("[data-object-form]");
  object.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(object);
    const body = object.elements.body.value.trim();
    if (!body) {
      fieldError(object, "body", t("ui.poll_page.object_missing"));
      return;
    }
    const button = $('[type="submit"]', object);
    busy(button, true);
    try {
      await api("POST", `${base}/objections`, { body: { body } });
      object.reset();
      toast(t("ui.poll_page.object_sent"));
      await loadObjections();
    } catch (error) {
      showErrors(object, error);
    } finally {
      busy(button, false);
    }
  });

  $("[data-download]").addEventListener("click", download);
  wireShare(`${base}/share`, $("[data-share-copy]"));
  window.addEventListener("pagehide", () => live && live.stop());
}

async function download() {
  const button = $("[data-download]");
  busy(button, true);
  try {
    const chain = await api("GET", `${base}/chain`);
    const blob = new Blob([JSON.stringify(chain, null, 2)], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = `poll-${pollId}-chain.json`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
  }
}
