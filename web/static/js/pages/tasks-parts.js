// What the task pages share: a task's kind, status and reward in words, the card in a list, a
// claim's state in a sentence and its steps, photos. Amounts and the person picker come from
// points-parts.js (the points and store pages use them too).

import { t } from "../i18n.js";
import { $, badge, communityPath, fill, formatDateTime, localPath } from "../ui.js";
import { amountText, joinNodes, putSlots, quoted, tOr, tQuoted } from "./points-parts.js";

export {
  amountText, hoursText, joinNodes, personIdOf, personPicker, putSlots, quoted, signedText, tOr, tQuoted, userOption,
} from "./points-parts.js";

export const KINDS = ["volunteer", "adoption", "wish", "timebank"];
const STATUS_TONE = {
  draft: "", pending: "warning", open: "success", full: "info", in_progress: "primary", done: "", cancelled: "",
  expired: "",
};
const CLAIM_TONE = {
  claimed: "info", checked_in: "info", submitted: "warning", verified: "success", paid: "success",
  rejected: "danger", withdrawn: "", no_show: "danger", expired: "", handed_over: "",
};

/** A task's reward, from a task (reward: {unit, amount}) or a task summary (reward_unit, reward_amount). */
export function rewardOf(task) {
  if (task.reward) return { unit: task.reward.unit || "points", amount: task.reward.amount || 0 };
  return { unit: task.reward_unit || "points", amount: task.reward_amount || 0 };
}

/** The reward as a pill: "+20 积分" in green, "2 小时" in blue. */
export function rewardPill(task) {
  const { unit, amount } = rewardOf(task);
  const pill = document.createElement("span");
  pill.className = unit === "hours" ? "reward reward--hours" : "reward";
  pill.textContent = amount ? t(`tasks.reward.${unit}`, { amount: amountText(unit, amount) }) : t("tasks.reward.none");
  pill.dataset.reward = `${unit}:${amount}`;
  return pill;
}

export function kindLabel(kind) {
  return tOr(`tasks.kind.${kind}`, kind);
}

export function statusLabel(task) {
  return tOr(`tasks.status.${task.kind}.${task.status}`, tOr(`tasks.status.${task.status}`, task.status));
}

export function taskBadges(task) {
  const out = [badge(kindLabel(task.kind), "info"), badge(statusLabel(task), STATUS_TONE[task.status] || "")];
  out[1].dataset.status = task.status;
  return out;
}

export function claimLabel(claim) {
  return tOr(`tasks.claim.status.${claim.status}`, claim.status);
}

export function claimBadge(claim) {
  const element = badge(claimLabel(claim), CLAIM_TONE[claim.status] || "");
  element.dataset.claimStatus = claim.status;
  return element;
}

function beijingDay(iso) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date(iso));
}

function clockTime(iso) {
  return new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", {
    timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit",
  }).format(new Date(iso));
}

/** When: "2026/12/12 09:00 至 11:30" on one day, else both moments; from/until alone. */
export function whenText(task) {
  const start = task.starts_at ? formatDateTime(task.starts_at) : "";
  const sameDay = task.starts_at && task.ends_at && beijingDay(task.starts_at) === beijingDay(task.ends_at);
  const end = task.ends_at ? (sameDay ? clockTime(task.ends_at) : formatDateTime(task.ends_at)) : "";
  if (start && end) return t("tasks.when.range", { start, end });
  if (start) return t("tasks.when.from", { start });
  if (end) return t("tasks.when.until", { end });
  return t("tasks.when.any");
}

/** Where, in words: the building and what people call the spot (a task, or a task summary). */
/** Who may claim, in words: everyone, one grid's or one building's residents, one role. */
export function whoMayText(task, grids = new Map(), buildings = new Map()) {
  const scope = task.eligibility || {};
  if (scope.scope === "grid") return tQuoted("tasks.who.grid", { name: quoted(grids.get(scope.grid_id) || "") });
  if (scope.scope === "building") {
    return tQuoted("tasks.who.building", { name: quoted(buildings.get(scope.building_id) || "") });
  }
  if (scope.scope === "role") return t("tasks.who.role", { name: t(`ui.role.${scope.role}`) });
  return t("tasks.who.community");
}

/** Why I may not claim now (TaskRead.claim_refusal, an error code), in words. */
export function refusalText(code) {
  return tOr(`tasks.refusal.${code}`, t("tasks.claim.say.not_for_me"));
}

/** Where, as nodes: the building and what people call the spot (user content), how far (a task or
 * a task summary); an empty fragment when the task names no place. */
export function placeText(task) {
  const place = task.place || task;
  const named = [place.building_name, place.location_text].filter(Boolean).join(" · ");
  const far = place.distance_m !== null && place.distance_m !== undefined ? distanceText(place.distance_m) : "";
  return joinNodes([named ? quoted(named) : "", far]);
}

export function distanceText(metres) {
  if (metres < 1000) return t("tasks.distance.m", { n: Math.max(10, Math.round(metres / 10) * 10) });
  return t("tasks.distance.km", { n: (Math.round(metres / 100) / 10).toLocaleString(document.documentElement.lang) });
}

export function peopleText(task) {
  if (!task.people_needed) return t("tasks.people.open_count", { claimed: task.claimed_count || 0 });
  return t("tasks.people.count", { claimed: task.claimed_count || 0, needed: task.people_needed });
}

export function taskPath(cid, id) {
  return `/c/${encodeURIComponent(cid)}/tasks/${encodeURIComponent(id)}`;
}

export function apiTaskPath(cid, id, rest = "") {
  return communityPath(cid, `/tasks/${encodeURIComponent(id)}${rest}`);
}

/** One task in a list: title, kind and status, when and where, the reward, people, my part. */
export function taskCard(task, cid) {
  const card = fill("tpl-task-card", { title: task.title, people: peopleText(task) });
  putSlots(card, { meta: joinNodes([whenText(task), placeText(task)]) });
  card.dataset.taskId = task.id;
  card.dataset.kind = task.kind;
  $("[data-link]", card).href = taskPath(cid, task.id);
  $("[data-badges]", card).replaceChildren(...taskBadges(task));
  $("[data-reward]", card).replaceChildren(rewardPill(task));
  const photo = (task.photos || [])[0];
  if (photo) {
    const thumb = $("[data-thumb]", card);
    thumb.src = localPath(photo.thumb_url || photo.url);
    thumb.hidden = false;
  }
  const mine = $("[data-mine]", card);
  if (task.my_claim) {
    mine.textContent = t("tasks.card.mine", { state: claimLabel(task.my_claim) });
    mine.hidden = false;
  }
  return card;
}

// ---- a claim's state in words ----------------------------------------------------------------

const STEPS = ["claimed", "checked_in", "submitted", "verified", "paid"];
const FAILED = new Set(["rejected", "withdrawn", "no_show", "expired", "handed_over"]);

/** The sentence that says where my claim stands and what comes next (text, or nodes when it quotes
 * a name). */
export function claimSentence(claim, task) {
  const paid = claim.paid_amount ? amountText(claim.paid_unit, claim.paid_amount) : "";
  const params = {
    reward: paid || amountText(rewardOf(task).unit, rewardOf(task).amount),
    reason: claim.rejected_reason || "",
    when: formatDateTime(claim.next_checkin_due_at),
    to: claim.handed_to ? claim.handed_to.name : "",
  };
  const kindKey = `tasks.claim.say.${task.kind}.${claim.status}`;
  const text = tOr(kindKey, t(`tasks.claim.say.${claim.status}`, params), params);
  if (task.kind === "adoption" && claim.checkin_overdue) return t("tasks.claim.say.adoption.overdue", params);
  if (claim.status === "handed_over") return tQuoted("tasks.claim.say.handed_over", { to: quoted(params.to) });
  return claim.status === "rejected" && !claim.rejected_reason ? t("tasks.claim.say.rejected_plain") : text;
}

export function claimTone(claim) {
  if (claim.status === "verified" || claim.status === "paid") return "success";
  if (FAILED.has(claim.status)) return "danger";
  if (claim.status === "submitted") return "warning";
  return "";
}

/** The steps of a claim as a list: done, now, still to come; a failed end says so. */
export function claimSteps(list, claim) {
  // Rejected work goes back to handing in again.
  const at = claim.status === "rejected" ? STEPS.indexOf("checked_in") : STEPS.indexOf(claim.status);
  const items = STEPS.map((step, i) => {
    const node = fill("tpl-step", { label: t(`tasks.step.${step}`), dot: String(i + 1) });
    // A claim's state is the last step taken: that one and those before are done, the next is now.
    let state = "todo";
    if (at >= 0 && i <= at) state = "done";
    if (at >= 0 && i === at + 1) state = "now";
    node.dataset.state = state;
    if (state === "done") node.querySelector("[data-slot=dot]").textContent = "✓";
    return node;
  });
  if (at < 0) {
    const last = fill("tpl-step", { label: claimLabel(claim), dot: "!" });
    last.dataset.state = "failed";
    items.push(last);
  }
  list.replaceChildren(...items);
}

/** Pictures the API gave (a task's, a claim's evidence) as thumbnails that open the full one. */
export function showPhotos(list, photos) {
  list.replaceChildren(...photos.map((photo, i) => {
    const node = fill("tpl-photo-view");
    $("[data-full]", node).href = localPath(photo.url);
    $("[data-full]", node).setAttribute("aria-label", t("tasks.photo_open", { n: i + 1 }));
    $("[data-img]", node).src = localPath(photo.thumb_url || photo.url);
    return node;
  }));
  list.hidden = photos.length === 0;
}
