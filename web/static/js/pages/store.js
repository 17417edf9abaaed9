// /c/{cid}/store: the points store 积分超市 — what my points buy (price, stock, how many one
// person may take, who donated it), redeemed here; the order's pickup code 核销码 and its QR wait
// in my orders. The committee's links lead to managing the store and to the pickup counter.

import { api } from "../api.js";
import { newId } from "../queue.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, can, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fill, localPath, pageData,
  showErrors, toast,
} from "../ui.js";
import { setQuotedText } from "./points-parts.js";
import { mostFor, priceText, stockText } from "./store-parts.js";
import { amountText } from "./points-parts.js";

const cid = cidOfPage();
let balance = 0;
let cursor = null;
let seq = 0;

start(async () => {
  rememberCommunity(cid);
  const [community, mine] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", communityPath(cid, "/points/me"), { keep: true }).catch(() => null),
  ]);
  const { permissions } = pageData();
  $("[data-manage-link]").hidden = !can(permissions, "store.manage", community.my_roles);
  $("[data-pickup-link]").hidden = !can(permissions, "store.manage", community.my_roles);
  showBalance(mine);
  $("[data-more]").addEventListener("click", () => load(false).catch((error) => toast(errorMessage(error), "error")));
  await load(true);
});

function showBalance(mine) {
  balance = mine ? mine.balances.points : 0;
  $('[data-slot="balance"]').textContent = amountText("points", balance);
}

async function load(fresh) {
  const params = new URLSearchParams({ limit: "40", on_sale: "true" });
  if (!fresh && cursor) params.set("cursor", cursor);
  const more = $("[data-more]");
  busy(more, true);
  try {
    const page = await api("GET", `${communityPath(cid, "/store/items")}?${params}`, { keep: fresh });
    const items = page.items.filter((item) => item.on_sale);
    const list = $("[data-list]");
    if (fresh) list.replaceChildren(...items.map(itemCard));
    else list.append(...items.map(itemCard));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    $("[data-empty]").hidden = list.children.length > 0;
  } finally {
    $("[data-loading]").hidden = true;
    busy(more, false);
  }
}

function itemCard(item) {
  const node = fill("tpl-item", {
    name: item.name, price: priceText(item), stock: stockText(item), description: item.description,
  });
  setQuotedText($('[data-slot="sponsor"]', node), item.sponsor_text, [item.sponsor]);
  node.dataset.itemId = item.id;
  if (item.photo) {
    const img = $("[data-photo]", node);
    img.src = localPath(item.photo.thumb_url);
    img.hidden = false;
  }
  $('[data-slot="sponsor"]', node).hidden = !item.sponsor_text;
  $('[data-slot="description"]', node).hidden = !item.description;
  const form = $("[data-redeem-form]", node);
  seq += 1;
  const qty = form.elements.quantity;
  qty.id = `qty-${seq}`;
  $("[data-label-for]", form).htmlFor = qty.id;
  const most = mostFor(item);
  qty.max = String(Math.max(1, most));
  $("[data-qty]", form).hidden = most <= 1;
  const button = $("[data-redeem]", form);
  if (!item.can_redeem) {
    button.disabled = true;
    button.textContent = t(item.stock <= 0 ? "store.items.sold_out" : "store.items.limit_reached");
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    redeem(form, item);
  });
  return node;
}

async function redeem(form, item) {
  clearErrors(form);
  const quantity = Number(form.elements.quantity.value || "1");
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > Math.max(1, mostFor(item))) {
    fieldError(form, "quantity", t("store.items.quantity_bad"));
    return;
  }
  if (item.price * quantity > balance) {
    $("[data-form-error]", form).textContent = t("store.items.too_few", {
      need: amountText("points", item.price * quantity), have: amountText("points", balance) });
    return;
  }
  const button = $("[data-redeem]", form);
  busy(button, true);
  try {
    // One key per tap: a retried request redeems once.
    const order = await api("POST", communityPath(cid, "/store/orders"),
      { body: { item_id: item.id, quantity }, idempotencyKey: newId() });
    toast(t("store.items.redeemed", { name: item.name }));
    window.location.assign(`/c/${encodeURIComponent(cid)}/store/orders?new=${encodeURIComponent(order.id)}`);
  } catch (error) {
    showErrors(form, error);
    busy(button, false);
  }
}
