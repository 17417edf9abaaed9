// /c/{cid}/admin/invites: make an invite (for the whole community or one building), show
// its link and QR code to paste in a WeChat group or print; list and revoke invites.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { start } from "../shell.js";
import {
  $, busy, cidOfPage, clearErrors, communityPath, confirmTap, copyText, cursorList, errorMessage, fieldError, fill,
  formatDateTime, localPath, quoted, showErrors, toast, userOption, wirePoster,
} from "../ui.js";

const cid = cidOfPage();
const loadPage = cursorList(communityPath(cid, "/invites"), inviteCard);
let buildings = new Map();

start(async () => {
  const places = await api("GET", communityPath(cid, "/buildings"), { keep: true });
  buildings = new Map(places.map((b) => [b.id, b.name]));
  const select = $("#invite-building");
  for (const building of places) select.append(userOption(building.name, building.id));
  const form = $("[data-invite-form]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    create(form);
  });
  $("[data-more]").addEventListener("click", () => loadPage(false).catch(() => toast(t("ui.error.load_failed"), "error")));
  await loadPage(true);
});

function readNumber(form, name) {
  const raw = form.elements[name].value.trim();
  if (!raw) return { value: null };
  const value = Number(raw);
  return Number.isInteger(value) && value >= 1 ? { value } : { error: true };
}

async function create(form) {
  clearErrors(form);
  const days = readNumber(form, "expires_in_days");
  const uses = readNumber(form, "max_uses");
  if (days.error) {
    fieldError(form, "expires_in_days", t("ui.invites.whole_number"));
    return;
  }
  if (uses.error) {
    fieldError(form, "max_uses", t("ui.invites.whole_number"));
    return;
  }
  const body = {
    building_id: form.elements.building_id.value || null,
    expires_in_days: days.value,
    note: form.elements.note.value.trim(),
  };
  if (uses.value) body.max_uses = uses.value;
  const submit = $('[type="submit"]', form);
  busy(submit, true);
  try {
    const invite = await api("POST", communityPath(cid, "/invites"), { body });
    const created = $("[data-created]");
    const card = inviteCard(invite);
    showQr(card, invite);
    created.replaceChildren(created.firstElementChild, card);
    created.hidden = false;
    card.scrollIntoView({ block: "start" });
    await loadPage(true);
  } catch (error) {
    showErrors(form, error);
  } finally {
    busy(submit, false);
  }
}


function inviteState(invite) {
  if (invite.revoked) return ["revoked", "danger"];
  if (invite.expires_at && Date.parse(invite.expires_at) <= Date.now()) return ["expired", "warning"];
  if (invite.max_uses !== null && invite.uses >= invite.max_uses) return ["used_up", "warning"];
  return ["active", "success"];
}

function inviteCard(invite) {
  const card = fill("tpl-invite", {
    title: invite.note ? quoted(invite.note) : t("ui.invites.code", { code: invite.code }),
    building: buildings.has(invite.building_id) ? quoted(buildings.get(invite.building_id))
      : t("ui.invites.whole_community"),
    uses: invite.max_uses === null
      ? t("ui.invites.uses_unlimited", { uses: invite.uses })
      : t("ui.invites.uses_of", { uses: invite.uses, max: invite.max_uses }),
    expires: invite.expires_at ? formatDateTime(invite.expires_at) : t("ui.invites.never"),
    url: invite.url,
  });
  const [state, kind] = inviteState(invite);
  const badge = $("[data-status]", card);
  badge.textContent = t(`ui.invites.state.${state}`);
  badge.classList.add(`badge--${kind}`);
  const cardError = $("[data-card-error]", card);

  $("[data-copy]", card).addEventListener("click", async () => {
    toast(await copyText(invite.url) ? t("ui.invites.copied") : t("ui.invites.copy_failed"));
  });
  $("[data-show-qr]", card).addEventListener("click", () => showQr(card, invite));
  const poster = $("[data-poster]", card);
  poster.hidden = state !== "active";  // a dead invite's poster would mislead for as long as it is forwarded
  wirePoster(poster, $("[data-poster-slot]", card), () => invite.code);

  const revoke = $("[data-revoke]", card);
  revoke.hidden = state !== "active";
  confirmTap(revoke, t("ui.invites.revoke_confirm"), async () => {
    cardError.textContent = "";
    busy(revoke, true);
    try {
      const updated = await api("POST", communityPath(cid, `/invites/${encodeURIComponent(invite.id)}/revoke`));
      card.replaceWith(inviteCard(updated));
      toast(t("ui.invites.revoked"));
    } catch (error) {
      busy(revoke, false);
      cardError.textContent = errorMessage(error);
    }
  });
  return card;
}

function showQr(card, invite) {
  const image = $("[data-qr]", card);
  image.src = localPath(invite.qr_url);
  image.hidden = false;
  $("[data-qr-hint]", card).hidden = false;
  $("[data-show-qr]", card).hidden = true;
}
