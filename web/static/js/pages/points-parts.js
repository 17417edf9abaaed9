// What the points, store and task pages share: amounts in their unit (points; hours kept as
// minutes and written as hours), signed for the ledger, and the person picker with which a
// facilitator acts for a resident or a neighbour is named (a donation of hours).

import { api } from "../api.js";
import { t } from "../i18n.js";
import { $, communityPath, fill, joinNodes, quoted } from "../ui.js";

// User content (what people wrote, the names they gave) is marked with web/static/js/ui.js's
// quoted, tQuoted, joinNodes, userOption and setQuotedText; the pages import them from here or there.
export { joinNodes, quoted, setQuotedText, setSlots as putSlots, tQuoted, userOption } from "../ui.js";

/** A translation that falls back to `fallback` when the catalogue lacks `key`. */
export function tOr(key, fallback, params = {}) {
  const text = t(key, params);
  return text === key ? fallback : text;
}

/** Minutes as hours in words: 90 → "1.5 小时", 60 → "1 小时". */
export function hoursText(minutes) {
  const hours = Math.round((minutes / 60) * 100) / 100;
  return t("points.fmt.hours", { n: hours.toLocaleString(document.documentElement.lang || "zh-CN") });
}

/** An amount in its unit: points as "20 积分", hours (minutes) as "1.5 小时". */
export function amountText(unit, amount) {
  if (unit === "hours") return hoursText(amount);
  return t("points.fmt.points", { n: amount });
}

/** A signed amount for the ledger: "+20 积分", "−1.5 小时". */
export function signedText(unit, amount) {
  const sign = amount > 0 ? "+" : amount < 0 ? "−" : "";
  return `${sign}${amountText(unit, Math.abs(amount))}`;
}

// ---- naming a person: acting for a resident, giving hours to a neighbour -----------------------

/**
 * A search over the community's members (name, building, room) in `slot`; `onPick(member|null)`.
 * For facilitators (grid workers, building leaders, the committee): members.view.
 */
export function personPicker(slot, cid, onPick, buildings = new Map()) {
  const root = fill("tpl-person-pick");
  slot.replaceChildren(root);
  const input = $("[data-person-q]", root);
  const results = $("[data-person-results]", root);
  const chosen = $("[data-person-chosen]", root);
  let timer = null;
  let asked = 0;
  let picked = null;

  const choose = (member) => {
    picked = member;
    chosen.hidden = !member;
    $("[data-person-name]", chosen).replaceChildren(member ? personLine(member, buildings) : "");
    results.replaceChildren();
    input.value = "";
    onPick(member);
  };
  $("[data-person-clear]", root).addEventListener("click", () => choose(null));

  const search = async () => {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) {
      results.replaceChildren();
      return;
    }
    const params = new URLSearchParams({ q, limit: "8" });
    let page;
    try {
      page = await api("GET", `${communityPath(cid, "/members")}?${params}`);
    } catch {
      return;
    }
    if (mine !== asked) return;
    const items = Array.isArray(page) ? page : page.items;
    if (!items.length) {
      const none = document.createElement("p");
      none.className = "card__meta";
      none.textContent = t("points.person.none");
      results.replaceChildren(none);
      return;
    }
    results.replaceChildren(...items.map((member) => {
      const button = fill("tpl-person-result", { name: member.name || t("points.person.no_name") });
      $('[data-slot="where"]', button).replaceChildren(memberWhere(member, buildings));
      button.dataset.personId = member.person_id || member.id;
      button.addEventListener("click", () => choose(member));
      return button;
    }));
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  return { picked: () => picked, reset: () => choose(null) };
}

export function personIdOf(member) {
  return member.person_id || member.id;
}

function memberWhere(member, buildings) {
  const home = buildings.get(member.building_id);
  return joinNodes([home ? quoted(home) : "", member.phone || ""]);
}

function personLine(member, buildings) {
  return joinNodes([quoted(member.name), memberWhere(member, buildings)]);
}

