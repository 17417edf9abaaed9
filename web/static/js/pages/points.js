// /c/{cid}/points: my points 我的积分 — what I hold in points and in time-bank hours, every entry
// explained in words (what it was for, who did it, why), whether the honour board may show my
// name, and hours given to a neighbour (an elderly person's account, say).

import { api } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, can, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fill, formatDateTime, pageData,
  showErrors, toast,
} from "../ui.js";
import {
  hoursText, joinNodes, personIdOf, personPicker, putSlots, quoted, setQuotedText, tQuoted,
} from "./points-parts.js";

const cid = cidOfPage();
let cursor = null;
let donateTo = null;
let roles = [];

start(async () => {
  rememberCommunity(cid);
  const [community, mine] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", communityPath(cid, "/points/me"), { keep: true }),
  ]);
  roles = community.my_roles;
  render(mine);
  wire();
  $("[data-loading]").hidden = true;
  $("[data-points]").hidden = false;
});

function render(mine) {
  const root = $("[data-points]");
  $('[data-slot="points"]', root).textContent = String(mine.balances.points);
  $('[data-slot="hours"]', root).textContent = hoursText(mine.balances.hours);
  $("[data-list]").replaceChildren(...mine.entries.map(entryRow));
  cursor = mine.next_cursor;
  $("[data-more]").hidden = !cursor;
  $("[data-empty]").hidden = mine.entries.length > 0;
  $("[data-show-name]").checked = mine.show_name;
}

/** One ledger entry: what happened in words (the server says it), why, who, when, and the amount. */
function entryRow(entry) {
  const who = entry.counterpart_name ? tQuoted("points.entry.with", { name: quoted(entry.counterpart_name) })
    : entry.actor_name ? tQuoted("points.entry.by", { name: quoted(entry.actor_name) })
      : entry.auto ? t("points.entry.auto") : "";
  const why = [entry.title && !entry.text.includes(entry.title) ? entry.title : "", entry.reason].filter(Boolean)
    .join(" · ");
  const node = fill("tpl-entry", { why, amount: entry.amount_text });
  // The server's sentence quotes the task, the item, the neighbour: those parts keep their language.
  setQuotedText($('[data-slot="what"]', node), entry.text, [entry.title, entry.reason, entry.counterpart_name,
    entry.actor_name]);
  putSlots(node, { when: joinNodes([formatDateTime(entry.created_at), who]) });
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
  // Facilitators and the committee search the members list; a resident types the neighbour's phone
  // number and confirms the masked name the server answers with (王*英).
  const permissions = pageData().permissions;
  if (can(permissions, "members.view", roles)) {
    personPicker($("[data-donate-person]"), cid, (member) => {
      donateTo = member;
    });
  } else if (can(permissions, "points.donate", roles)) {
    phonePicker($("[data-donate-person]"));
  } else {
    $("[data-donate-box]").hidden = true;
  }
  const form = $("[data-donate-form]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    donate(form);
  });
}

function phonePicker(slot) {
  const root = fill("tpl-donate-phone");
  slot.replaceChildren(root);
  const input = $("[data-phone-q]", root);
  const found = $("[data-phone-found]", root);
  const chosen = $("[data-phone-chosen]", root);
  const error = $("[data-error-for=phone]", root);
  let candidate = null;
  const show = (state) => {
    found.hidden = state !== "found";
    chosen.hidden = state !== "chosen";
    input.closest(".field").hidden = state === "chosen";
  };
  const find = async () => {
    error.textContent = "";
    donateTo = null;
    show("");
    const button = $("[data-phone-find]", root);
    busy(button, true);
    try {
      const answer = await api("POST", communityPath(cid, "/points/donations/recipient"),
        { body: { phone: input.value.trim() } });
      candidate = { person_id: answer.person_id, name: answer.masked_name };
      $("[data-phone-name]", root).textContent = answer.masked_name;
      show("found");
    } catch (problem) {
      error.textContent = errorMessage(problem);
    } finally {
      busy(button, false);
    }
  };
  $("[data-phone-find]", root).addEventListener("click", find);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      find();
    }
  });
  $("[data-phone-confirm]", root).addEventListener("click", () => {
    donateTo = candidate;
    $("[data-phone-chosen-name]", root).textContent = t("points.donate.to", { name: candidate.name });
    show("chosen");
  });
  const again = () => {
    donateTo = candidate = null;
    input.value = "";
    show("");
    input.focus();
  };
  $("[data-phone-clear]", root).addEventListener("click", again);
  $("[data-phone-again]", root).addEventListener("click", again);
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
    if ($("[data-phone-pick]")) {
      donateTo = null;
      phonePicker($("[data-donate-person]"));
    }
    render(await api("GET", communityPath(cid, "/points/me"), { keep: true }));
    $("[data-donate-box]").open = false;
  } catch (error) {
    showErrors(form, error);
  } finally {
    busy(button, false);
  }
}
