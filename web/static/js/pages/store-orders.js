// /c/{cid}/store/orders: my orders 我的兑换 — each with its state in words; one waiting to be
// picked up shows its pickup code 核销码, big enough to read out, and its QR for the committee to
// scan at the counter, until when it waits, and a way to cancel it (the points come back).

import { api } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import { $, busy, cidOfPage, communityPath, confirmTap, errorMessage, fill, formatDateTime, toast } from "../ui.js";
import { expiresText, itemName, orderBadge, orderMeta, showQr } from "./store-parts.js";
import { amountText } from "./points-parts.js";

const cid = cidOfPage();
const justOrdered = new URLSearchParams(window.location.search).get("new");
let cursor = null;

start(async () => {
  rememberCommunity(cid);
  $("[data-just-ordered]").hidden = !justOrdered;
  $("[data-more]").addEventListener("click", () => load(false).catch((error) => toast(errorMessage(error), "error")));
  await load(true);
});

async function load(fresh) {
  const params = new URLSearchParams({ limit: "20", mine: "true" });
  if (!fresh && cursor) params.set("cursor", cursor);
  const more = $("[data-more]");
  busy(more, true);
  try {
    const page = await api("GET", `${communityPath(cid, "/store/orders")}?${params}`, { keep: fresh });
    const list = $("[data-list]");
    const cards = page.items.map(orderCard);
    if (fresh) list.replaceChildren(...cards);
    else list.append(...cards);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    $("[data-empty]").hidden = list.children.length > 0;
  } finally {
    $("[data-loading]").hidden = true;
    busy(more, false);
  }
}

function orderCard(order) {
  const node = fill("tpl-order", {
    name: itemName(order), meta: orderMeta(order), code: order.pickup_code || order.code || "",
    expires: expiresText(order), outcome: outcome(order),
  });
  node.dataset.orderId = order.id;
  node.dataset.orderStatus = order.status;
  $("[data-badge]", node).replaceChildren(orderBadge(order));
  const waiting = order.status === "pending" || order.status === "ready";
  $("[data-code-box]", node).hidden = !waiting;
  if (waiting) showQr($("[data-qr]", node), { svg: order.qr_svg || "", url: order.qr_url || "" });
  $('[data-slot="outcome"]', node).hidden = !outcome(order);
  const actions = $("[data-actions]", node);
  if ((order.allowed_actions || (waiting ? ["cancel"] : [])).includes("cancel")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn--danger btn--small";
    button.dataset.do = "cancel";
    button.textContent = t("store.orders.cancel");
    confirmTap(button, t("store.orders.cancel_sure"), () => cancel(order, button, node));
    actions.append(button);
  }
  if (order.id === justOrdered) node.classList.add("card--accent");
  return node;
}

function outcome(order) {
  if (order.status === "fulfilled") {
    return t("store.orders.fulfilled", { when: formatDateTime(order.fulfilled_at || order.updated_at) });
  }
  if (order.status === "cancelled" || order.status === "expired") {
    const total = order.points ?? order.total ?? 0;
    return t(`store.orders.refunded_${order.status}`, { amount: amountText("points", total) });
  }
  return "";
}

async function cancel(order, button, node) {
  busy(button, true);
  try {
    const updated = await api("POST", communityPath(cid, `/store/orders/${encodeURIComponent(order.id)}/transitions`),
      { body: { action: "cancel" } });
    node.replaceWith(orderCard(updated));
    toast(t("store.orders.cancelled"));
  } catch (error) {
    toast(errorMessage(error), "error");
    busy(button, false);
  }
}
