// What the store pages share: an item's price, stock, limit and sponsor in words, an order's
// state (the server's words) and badge, and the pickup QR, which the API serves to the order's
// owner only (with the session's token), drawn here as an image from its SVG.

import { api, API } from "../api.js";
import { t } from "../i18n.js";
import { badge, formatDateTime } from "../ui.js";
import { amountText, tOr } from "./points-parts.js";

const ORDER_TONE = { ready: "warning", fulfilled: "success", cancelled: "", expired: "" };

export function orderBadge(order) {
  const element = badge(order.status_text || tOr(`store.state.${order.status}`, order.status),
    ORDER_TONE[order.status] || "");
  element.dataset.orderStatus = order.status;
  return element;
}

export function orderMeta(order) {
  return [t("store.orders.quantity", { n: order.quantity }), amountText("points", order.total),
    formatDateTime(order.created_at)].join(" · ");
}

export function priceText(item) {
  return amountText("points", item.price);
}

export function stockText(item) {
  const parts = [item.stock > 0 ? t("store.items.stock", { n: item.stock }) : t("store.items.sold_out")];
  if (item.per_person_limit) parts.push(t("store.items.limit", { n: item.per_person_limit }));
  if (item.mine) parts.push(t("store.items.mine", { n: item.mine }));
  return parts.join(" · ");
}

/** How many more of an item I may take now: its stock, and what its limit leaves me. */
export function mostFor(item) {
  const left = item.per_person_limit ? item.per_person_limit - (item.mine || 0) : item.stock;
  return Math.max(0, Math.min(item.stock, left));
}

/** The pickup QR of my order on `img` (its owner only; none once it is picked up or locked). */
export async function showOrderQr(img, order) {
  img.hidden = true;
  if (!order.qr_url) return;
  const url = new URL(order.qr_url, window.location.origin);
  const path = url.pathname.startsWith(API) ? url.pathname.slice(API.length) : url.pathname;
  try {
    const svg = await api("GET", `${path}${url.search}`);
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    img.hidden = false;
  } catch {
    img.hidden = true; // the code itself is shown in words anyway
  }
}

export function expiresText(order) {
  return order.expires_at ? t("store.orders.expires", { when: formatDateTime(order.expires_at) }) : "";
}
