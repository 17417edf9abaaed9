// /c/{cid}/store/orders: my orders 我的兑换 — each with its state in words; one waiting to be
// picked up shows its pickup code 核销码, big enough to read out, its QR for the committee to
// scan at the counter, until when it waits, and a way to cancel it (the points come back) or to
// get a new code (after five wrong tries locked it). /store/orders/{id} shows that order first.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, cidOfPage, communityPath, confirmTap, errorMessage, fill, formatDateTime, pageData, showFailure, toast,
} from "../ui.js";
import { expiresText, orderBadge, orderMeta, showOrderQr } from "./store-parts.js";
import { amountText } from "./points-parts.js";

const cid = cidOfPage();
const chosen = pageData().order_id || new URLSearchParams(window.location.search).get("new");
let cursor = null;

start(async () => {
  rememberCommunity(cid);
  $("[data-just-ordered]").hidden = !new URLSearchParams(window.location.search).get("new");
  $("[data-more]").addEventListener("click", () => load(false).catch((error) => toast(errorMessage(error), "error")));
  await load(true);
});

async function load(fresh) {
  const params = new URLSearchParams({ limit: "20", mine: "true" });
  if (!fresh && cursor) params.set("cursor", cursor);
  const more = $("[data-more]");
  busy(more, true);
  try {
    const [page, first] = await Promise.all([
      api("GET", `${communityPath(cid, "/store/orders")}?${params}`, { keep: fresh }),
      fresh && chosen ? api("GET", communityPath(cid, `/store/orders/${encodeURIComponent(chosen)}`))
        .catch((error) => {
          showFailure(error); // not mine, or gone: say so above my own orders
          return null;
        }) : null,
    ]);
    const list = $("[data-list]");
    const items = first ? [first, ...page.items.filter((o) => o.id !== first.id)] : page.items;
    const cards = items.map(orderCard);
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
    name: order.item_name, meta: orderMeta(order), code: groups(order.code || ""), expires: expiresText(order),
    outcome: outcome(order),
  });
  node.dataset.orderId = order.id;
  node.dataset.orderStatus = order.status;
  $("[data-badge]", node).replaceChildren(orderBadge(order));
  const box = $("[data-code-box]", node);
  box.hidden = !order.code;
  if (order.code) showOrderQr($("[data-qr]", node), order);
  const locked = $("[data-locked]", node);
  locked.hidden = !order.locked;
  $('[data-slot="outcome"]', node).hidden = !outcome(order);
  const actions = $("[data-actions]", node);
  if (order.actions.includes("reissue") && order.locked) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn--primary btn--small";
    button.dataset.do = "reissue";
    button.textContent = t("store.orders.reissue");
    button.addEventListener("click", () => act(order, "reissue", button, node));
    actions.append(button);
  }
  if (order.actions.includes("cancel")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn--danger btn--small";
    button.dataset.do = "cancel";
    button.textContent = t("store.orders.cancel");
    confirmTap(button, t("store.orders.cancel_sure"), () => act(order, "cancel", button, node));
    actions.append(button);
  }
  if (order.id === chosen) node.classList.add("card--accent");
  return node;
}

/** A pickup code in groups of four, easier to read out at the counter ("4466 7860 26"). */
function groups(code) {
  return code.replace(/(.{4})(?=.)/g, "$1 ");
}

function outcome(order) {
  if (order.status === "fulfilled") {
    return t("store.orders.fulfilled", { when: formatDateTime(order.closed_at) });
  }
  if (order.status === "cancelled" || order.status === "expired") {
    return t(`store.orders.refunded_${order.status}`, { amount: amountText("points", order.total) });
  }
  return "";
}

async function act(order, action, button, node) {
  busy(button, true);
  try {
    const updated = await api("POST", communityPath(cid, `/store/orders/${encodeURIComponent(order.id)}/transitions`),
      { body: { action } });
    node.replaceWith(orderCard(updated));
    toast(t(action === "cancel" ? "store.orders.cancelled" : "store.orders.reissued"));
  } catch (error) {
    toast(errorMessage(error), "error");
    busy(button, false);
  }
}
