// /c/{cid}/store/pickup: the pickup counter 兑换核销 — the committee types the pickup code 核销码 a
// resident shows (or scans its QR where the phone can), and hands the item over: the page says
// what to hand to whom. A wrong code says so; after five wrong tries the order is locked (the
// server decides and says it in words).

import { api } from "../api.js";
import { t } from "../i18n.js";
import { canScan, codeFrom, scanInto } from "../scan.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, can, cidOfPage, clearErrors, communityPath, fieldError, fill, pageData, showErrors,
} from "../ui.js";
import { joinNodes, quoted, tQuoted } from "./points-parts.js";
import { orderMeta } from "./store-parts.js";

const cid = cidOfPage();

start(async () => {
  rememberCommunity(cid);
  const community = await api("GET", communityPath(cid), { keep: true });
  $("[data-loading]").hidden = true;
  const { permissions } = pageData();
  if (!can(permissions, "store.manage", community.my_roles)) {
    $("[data-staff-only]").hidden = false;
    return;
  }
  const form = $("[data-pickup-form]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    hand(form);
  });
  const scan = $("[data-scan]");
  scan.hidden = !canScan();
  scan.addEventListener("click", async () => {
    const text = await scanInto($("[data-scanner-slot]"));
    if (!text) return;
    form.elements.code.value = codeFrom(text);
    hand(form);
  });
  $("[data-counter]").hidden = false;
  form.elements.code.focus();
});

async function hand(form) {
  clearErrors(form);
  const result = $("[data-result]");
  const code = form.elements.code.value.replace(/\s+/g, "").toUpperCase();
  if (!code) {
    fieldError(form, "code", t("store.pickup.missing"));
    return;
  }
  const button = form.querySelector('[type="submit"]');
  busy(button, true);
  result.hidden = true;
  try {
    const order = await api("POST", communityPath(cid, "/store/pickups"), { body: { code } });
    const who = order.person_name || "";
    result.dataset.tone = "success";
    $('[data-slot="headline"]', result).textContent = t("store.pickup.handed");
    $('[data-slot="item"]', result).textContent = order.item_name;
    $('[data-slot="who"]', result).replaceChildren(who ? tQuoted("store.pickup.to", { name: quoted(who) }) : "");
    $('[data-slot="meta"]', result).textContent = orderMeta(order);
    result.hidden = false;
    const row = fill("tpl-handed", { item: order.item_name });
    $('[data-slot="who"]', row).replaceChildren(joinNodes([who ? quoted(who) : "", orderMeta(order)]));
    $("[data-handed]").prepend(row);
    $("[data-handed-empty]").hidden = true;
    form.reset();
  } catch (error) {
    showErrors(form, error);
  } finally {
    busy(button, false);
    form.elements.code.focus();
  }
}
