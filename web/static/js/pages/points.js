// /c/{cid}/points: my points 我的积分 — what I hold in points and in time-bank hours, every entry
// explained in words (what it was for, who did it, why), whether the honour board may show my
// name, and hours given to a neighbour (an elderly person's account, say).

import { api } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fill, formatDateTime, showErrors, toast,
} from "../ui.js";
import { amountText, hoursText, personIdOf, personPicker, signedText, tOr } from "./points-parts.js";

const cid = cidOfPage();
let cursor = null;
let donateTo = null;

start(async () => {
  rememberCommunity(cid);
  const mine = await api("GET", communityPath(cid, "/points/me"), { keep: true });
  render(mine);
  wire();
  $("[data-loading]").hidden = true;
  $("[data-points]").hidden = false;
});

function balances(mine) {
  const b = mine.balances || mine.balance || {};
  return { points: b.points ?? 0, hours: b.hours ?? 0 };
}

function render(mine) {
  const { points, hours } = balances(mine);
  const root = $("[data-points]");
  $('[data-slot="points"]', root).textContent = String(points);
  $('[data-slot="hours"]', root).textContent = hoursText(hours);
  $('[data-slot="points_note"]', root).textContent = mine.expiring && mine.expiring.amount
    ? t("points.mine.expiring", { amount: amountText("points", mine.expiring.amount),
      when: formatDateTime(mine.expiring.at) }) : t("points.mine.points_note");
  $('[data-slot="hours_note"]', root).textContent = mine.held ? t("points.mine.held", { hours: hoursText(mine.held) })
    : t("points.mine.hours_note");
  const entries = mine.entries || (mine.history && mine.history.items) || [];
  $("[data-list]").replaceChildren(...entries.map(entryRow));
  cursor = mine.next_cursor ?? (mine.history && mine.history.next_cursor) ?? null;
  $("[data-more]").hidden = !cursor;
  $("[data-empty]").hidden = entries.length > 0;
  $("[data-show-name]").checked = mine.show_name !== false && mine.board_show_name !== false;
}

/** One ledger entry: what happened in words, why, when, and the signed amount. */
export function entryRow(entry) {
  const what = entry.explanation || entry.words || tOr(`points.kind.${entry.kind}`, entry.kind, {
    title: entry.title || "" });
  const why = [entry.title && !(entry.explanation || entry.words) ? entry.title : "", entry.reason]
    .filter(Boolean).join(" · ");
  const node = fill("tpl-entry", {
    what, why, when: formatDateTime(entry.created_at), amount: signedText(entry.unit, entry.amount),
  });
  node.dataset.kind = entry.kind;
  node.dataset.unit = entry.unit;
  $('[data-slot="why"]', node).hidden = !why;
  $('[data-slot="amount"]', node).dataset.sign = entry.amount > 0 ? "+" : entry.amount < 0 ? "-" : "";
  return node;
}

function wire() {
  const more = $("[data-more]");
  more.addEventListener("click", async () => {
    busy(more, true);
    try {
      const page = await api("GET", `${communityPath(cid, "/points/me/entries")}?${new URLSearchParams({
        cursor, limit: "20" })}`);
      $("[data-list]").append(...page.items.map(entryRow));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) {
      toast(errorMessage(error), "error");
    } finally {
      busy(more, false);
    }
  });
  const show = $("[data-show-name]");
  show.addEventListener("change", async () => {
    show.disabled = true;
    try {
      await api("PUT", communityPath(cid, "/points/me/board-visibility"), { body: { show_name: show.checked } });
      toast(t(show.checked ? "points.mine.shown" : "points.mine.hidden"));
    } catch (error) {
      show.checked = !show.checked;
      toast(errorMessage(error), "error");
    } finally {
      show.disabled = false;
    }
  });
  personPicker($("[data-donate-person]"), cid, (member) => {
    donateTo = member;
  });
  const form = $("[data-donate-form]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    donate(form);
  });
}

async function donate(form) {
  clearErrors(form);
  const hours = Number(form.elements.hours.value);
  if (!donateTo) {
    $("[data-form-error]", form).textContent = t("points.donate.pick");
    return;
  }
  if (!(hours > 0)) {
    fieldError(form, "minutes", t("points.donate.hours_missing"));
    return;
  }
  const button = form.querySelector('[type="submit"]');
  busy(button, true);
  try {
    await api("POST", communityPath(cid, "/points/donations"),
      { body: { to_person_id: personIdOf(donateTo), minutes: Math.round(hours * 60) } });
    toast(t("points.donate.done", { hours: hoursText(Math.round(hours * 60)), name: donateTo.name }));
    form.reset();
    render(await api("GET", communityPath(cid, "/points/me"), { keep: true }));
  } catch (error) {
    showErrors(form, error);
  } finally {
    busy(button, false);
  }
}
