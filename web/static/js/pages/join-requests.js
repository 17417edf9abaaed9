// /c/{cid}/admin/join-requests: the committee lets people in, or says no with a reason.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { start } from "../shell.js";
import {
  $, $$, busy, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fill, formatDateTime, quoted,
  showErrors, showFailure, toast, tQuoted,
} from "../ui.js";

const cid = cidOfPage();
const STATUS_BADGE = { pending: "warning", approved: "success", rejected: "danger" };
let status = "pending";
let cursor = null;
let buildings = new Map();

start(async () => {
  for (const tab of $$('[role="tab"]')) {
    tab.addEventListener("click", () => {
      status = tab.dataset.status;
      for (const other of $$('[role="tab"]')) other.setAttribute("aria-selected", other === tab ? "true" : "false");
      loadPage(true).catch(showFailure);
    });
  }
  $("[data-more]").addEventListener("click", () => loadPage(false).catch(() => toast(t("ui.error.load_failed"), "error")));
  const places = await api("GET", communityPath(cid, "/buildings"), { keep: true }).catch(() => []);
  buildings = new Map(places.map((b) => [b.id, b.name]));
  await loadPage(true);
});

async function loadPage(fresh) {
  const params = new URLSearchParams({ status, limit: "20" });
  if (!fresh && cursor) params.set("cursor", cursor);
  const more = $("[data-more]");
  busy(more, true);
  try {
    const page = await api("GET", `${communityPath(cid, "/join-requests")}?${params}`,
      { keep: fresh && status === "pending" });
    const list = $("[data-list]");
    const cards = page.items.map(requestCard);
    if (fresh) list.replaceChildren(...cards);
    else list.append(...cards);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    $("[data-loading]").hidden = true;
    updateEmpty();
  } finally {
    busy(more, false);
  }
}

function updateEmpty() {
  $("[data-empty]").hidden = $("[data-list]").children.length > 0;
}

function placeText(buildingName, room) {
  const place = [buildingName, room].filter(Boolean).join(" ");
  return place ? quoted(place) : t("ui.join_requests.no_place");
}

function requestCard(request) {
  const card = fill("tpl-join-request", {
    name: request.name,
    phone: request.phone || "",
    place: placeText(buildings.get(request.building_id), request.room),
    when: t("ui.join_requests.asked_at", { time: formatDateTime(request.created_at) }),
    reason: request.reason ? tQuoted("ui.join_requests.reason_was", { reason: quoted(request.reason) }) : "",
  });
  const badge = $("[data-status]", card);
  badge.textContent = t(`ui.join_requests.status.${request.status}`);
  badge.classList.add(`badge--${STATUS_BADGE[request.status] || "info"}`);
  $('[data-slot="reason"]', card).hidden = !request.reason;
  if (request.status !== "pending") return card;

  const decide = $("[data-decide]", card);
  const rejectForm = $("[data-reject-form]", card);
  const cardError = $("[data-card-error]", card);
  decide.hidden = false;
  const decided = (message) => {
    toast(message);
    card.remove();
    updateEmpty();
  };

  const approve = $("[data-approve]", card);
  approve.addEventListener("click", async () => {
    cardError.textContent = "";
    busy(approve, true);
    try {
      await api("POST", communityPath(cid, `/join-requests/${encodeURIComponent(request.id)}/approve`), { body: {} });
      decided(t("ui.join_requests.approved", { name: request.name }));
    } catch (error) {
      busy(approve, false);
      cardError.textContent = errorMessage(error);
    }
  });

  $("[data-reject]", card).addEventListener("click", () => {
    decide.hidden = true;
    rejectForm.hidden = false;
    rejectForm.elements.reason.focus();
  });
  $("[data-cancel]", rejectForm).addEventListener("click", () => {
    rejectForm.hidden = true;
    decide.hidden = false;
  });
  rejectForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(rejectForm);
    const reason = rejectForm.elements.reason.value.trim();
    if (!reason) {
      fieldError(rejectForm, "reason", t("ui.join_requests.reason_required"));
      return;
    }
    const submit = $('[type="submit"]', rejectForm);
    busy(submit, true);
    try {
      await api("POST", communityPath(cid, `/join-requests/${encodeURIComponent(request.id)}/reject`),
        { body: { reason } });
      decided(t("ui.join_requests.rejected", { name: request.name }));
    } catch (error) {
      busy(submit, false);
      showErrors(rejectForm, error);
    }
  });
  return card;
}
