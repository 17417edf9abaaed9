// /c/{cid}/tasks/mine: my tasks 我的任务 — what I claimed and still have to do (with the next step
// in words), the wishes and requests for help I posted, what is done and paid, and what ended.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import { $, busy, cidOfPage, communityPath, errorMessage, fill, toast } from "../ui.js";
import {
  claimBadge, claimLabel, claimSentence, joinNodes, kindLabel, placeText, putSlots, quoted, rewardPill, taskCard, taskPath, tQuoted,
  whenText,
} from "./tasks-parts.js";

const cid = cidOfPage();
const ACTIVE = new Set(["claimed", "checked_in", "submitted", "rejected"]);
const DONE = new Set(["verified", "paid"]);
let cursor = null;

start(async () => {
  rememberCommunity(cid);
  $("[data-more]").addEventListener("click", () => load(false).catch((error) => toast(errorMessage(error), "error")));
  await Promise.all([load(true), loadPosted(), loadForOthers()]);
  $("[data-loading]").hidden = true;
  $("[data-mine]").hidden = false;
});

async function load(fresh) {
  const params = new URLSearchParams({ limit: "50", status: "all" });
  if (!fresh && cursor) params.set("cursor", cursor);
  const more = $("[data-more]");
  busy(more, true);
  try {
    const page = await api("GET", `${communityPath(cid, "/me/claims")}?${params}`, { keep: fresh });
    if (fresh) for (const group of ["active", "done", "ended"]) $(`[data-list="${group}"]`).replaceChildren();
    for (const claim of page.items) {
      const group = ACTIVE.has(claim.status) ? "active" : DONE.has(claim.status) ? "done" : "ended";
      $(`[data-list="${group}"]`).append(claimCard(claim));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
    for (const group of ["done", "ended"]) {
      $(`[data-group="${group}"]`).hidden = $(`[data-list="${group}"]`).children.length === 0;
    }
    $('[data-none="active"]').hidden = $('[data-list="active"]').children.length > 0;
  } finally {
    busy(more, false);
  }
}

/** What a facilitator still does for residents without a phone: check them in, hand in for them. */
async function loadForOthers() {
  let page;
  try {
    page = await api("GET", `${communityPath(cid, "/me/claims")}?${new URLSearchParams({ for_others: "true",
      status: "active", limit: "50" })}`, { keep: true });
  } catch {
    return;
  }
  $('[data-list="for_others"]').replaceChildren(...page.items.map((claim) => claimCard(claim, true)));
  $('[data-group="for_others"]').hidden = page.items.length === 0;
}

/** The wishes and time-bank requests I posted (or that were posted for me). */
async function loadPosted() {
  let page;
  try {
    page = await api("GET", `${communityPath(cid, "/tasks")}?${new URLSearchParams({ mine: "requested",
      limit: "20" })}`, { keep: true });
  } catch {
    return;
  }
  const items = page.items.filter((task) => task.kind === "wish" || task.kind === "timebank");
  $('[data-list="posted"]').replaceChildren(...items.map((task) => taskCard(task, cid)));
  $('[data-group="posted"]').hidden = items.length === 0;
}

function claimCard(claim, forOthers = false) {
  const task = claim.task;
  const node = fill("tpl-my-claim", { title: task.title });
  putSlots(node, {
    state: forOthers ? tQuoted("tasks.mine.for_whom", { name: quoted(claim.person.name), state: claimLabel(claim) })
      : claimSentence(claim, task),
    meta: joinNodes([kindLabel(task.kind), whenText(task), placeText(task)]),
    for: claim.acted_by && !forOthers ? tQuoted("tasks.mine.acted_by", { name: quoted(claim.acted_by.name) }) : "",
  });
  node.dataset.claimId = claim.id;
  node.dataset.claimStatus = claim.status;
  $("[data-link]", node).href = taskPath(cid, task.id);
  $("[data-badges]", node).replaceChildren(claimBadge(claim));
  $("[data-reward]", node).replaceChildren(rewardPill(task));
  return node;
}
