// What the store pages share: an order's state in words and its badge, an item's price, stock and
// limit, and a QR code the API gives as an SVG document or a URL, shown as an image.

import { t } from "../i18n.js";
import { badge, formatDateTime, localPath } from "../ui.js";
import { amountText, tOr } from "./points-parts.js";

const ORDER_TONE = { pending: "warning", ready: "warning", fulfilled: "success", cancelled: "", expired: "" };

export function orderBadge(order) {
  const element = badge(tOr(`store.order.status.${order.status}`, order.status), ORDER_TONE[order.status] || "");
  element.dataset.orderStatus = order.status;
  return element;
}

export function itemName(order) {
  return (order.item && order.item.name) || order.item_name || "";
}

export function orderMeta(order) {
  const total = order.points ?? order.total ?? order.price_total ?? (order.price || 0) * (order.quantity || 1);
  return [t("store.orders.quantity", { n: order.quantity || 1 }), amountText("points", total),
    formatDateTime(order.created_at)].join(" · ");
}

export function priceText(item) {
  return amountText("points", item.price);
}

export function stockText(item) {
  const parts = [item.stock > 0 ? t("store.items.stock", { n: item.stock }) : t("store.items.sold_out")];
  if (item.per_person_limit) parts.push(t("store.items.limit", { n: item.per_person_limit }));
  return parts.join(" · ");
}

export function sponsorText(item) {
  const sponsor = item.sponsor || item.sponsor_name;
  return sponsor ? t("store.items.sponsor", { name: typeof sponsor === "string" ? sponsor : sponsor.name }) : "";
}

/** Put a QR code on an <img>: an SVG document (data: URL, allowed by the CSP) or a site path. */
export function showQr(img, { svg = "", url = "" } = {}) {
  if (svg) img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  else if (url) img.src = localPath(url);
  img.hidden = !svg && !url;
}

export function expiresText(order) {
  return order.expires_at ? t("store.orders.expires", { when: formatDateTime(order.expires_at) }) : "";
}
