// /c/{cid}/store/manage: the committee's store 积分超市管理 — add an item (name, photo, price in
// points, stock, how many one person may take, the sponsor who donated it), edit one, take it off
// sale or put it back; the orders by state, fulfilled or cancelled (refunded) from here; and the
// month's ledger and orders as spreadsheets for the books.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { photoPicker } from "../issues.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, $$, badge, busy, can, cidOfPage, clearErrors, communityPath, confirmTap, errorMessage, fieldErrors, fill,
  localPath, pageData, showErrors, toast,
} from "../ui.js";
import { joinNodes, quoted, setQuotedText } from "./points-parts.js";
import { orderBadge, orderMeta, priceText, stockText } from "./store-parts.js";

const cid = cidOfPage();
let formSeq = 0;
let ordersStatus = "ready";
let ordersCursor = null;

start(async () => {
  rememberCommunity(cid);
  const community = await api("GET", communityPath(cid), { keep: true });
  $("[data-loading]").hidden = true;
  if (!can(pageData().permissions, "store.manage", community.my_roles)) {
    $("[data-staff-only]").hidden = false;
    return;
  }
  $("[data-add-slot]").replaceChildren(itemForm(null, (item) => {
    $("[data-items]").prepend(itemRow(item));
    $("[data-items-empty]").hidden = true;
    $("[data-add-box]").open = false;
  }));
  for (const tab of $$("[data-tab]")) {
    tab.addEventListener("click", () => {
      for (const other of $$("[data-tab]")) other.setAttribute("aria-selected", other === tab ? "true" : "false");
      ordersStatus = tab.dataset.tab;
      loadOrders(true).catch((error) => toast(errorMessage(error), "error"));
    });
  }
  $("[data-orders-more]").addEventListener("click", () => loadOrders(false)
    .catch((error) => toast(errorMessage(error), "error")));
  const now = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit" })
    .format(new Date());
  $("[data-month]").value = now.slice(0, 7);
  for (const button of $$("[data-export]")) button.addEventListener("click", () => exportFile(button));
  await Promise.all([loadItems(), loadOrders(true)]);
  $("[data-manage]").hidden = false;
});

async function loadItems() {
  const page = await api("GET", `${communityPath(cid, "/store/items")}?limit=100`, { keep: true });
  const items = page.items;
  $("[data-items]").replaceChildren(...items.map(itemRow));
  $("[data-items-empty]").hidden = items.length > 0;
}

function itemRow(item) {
  const node = fill("tpl-item-row", {
    name: item.name, meta: `${priceText(item)} · ${stockText(item)}`,
  });
  setQuotedText($('[data-slot="sponsor"]', node), item.sponsor_text, [item.sponsor]);
  node.dataset.itemId = item.id;
  node.dataset.onSale = item.on_sale ? "yes" : "no";
  if (item.photo) {
    const img = $("[data-photo]", node);
    img.src = localPath(item.photo.thumb_url);
    img.hidden = false;
  }
  $('[data-slot="sponsor"]', node).hidden = !item.sponsor_text;
  $("[data-badges]", node).replaceChildren(badge(t(item.on_sale ? "store.manage.selling" : "store.manage.off_sale"),
    item.on_sale ? "success" : ""));
  const toggle = $("[data-toggle-sale]", node);
  toggle.textContent = t(item.on_sale ? "store.manage.take_off" : "store.manage.put_on");
  toggle.addEventListener("click", () => save(item, { on_sale: !item.on_sale }, toggle, node));
  $("[data-edit]", node).addEventListener("click", () => {
    const slot = $("[data-edit-slot]", node);
    if (slot.children.length) {
      slot.replaceChildren();
      return;
    }
    slot.replaceChildren(itemForm(item, (updated) => node.replaceWith(itemRow(updated)), () => slot.replaceChildren()));
  });
  return node;
}

async function save(item, patch, button, node) {
  busy(button, true);
  try {
    const updated = await api("PATCH", communityPath(cid, `/store/items/${encodeURIComponent(item.id)}`),
      { body: patch });
    node.replaceWith(itemRow(updated));
    toast(t(updated.on_sale ? "store.manage.now_on" : "store.manage.now_off", { name: updated.name }));
  } catch (error) {
    toast(errorMessage(error), "error");
    busy(button, false);
  }
}

/** The form for a new item (item null) or to edit one; `done(item)` after the server agrees. */
function itemForm(item, done, cancel = null) {
  const form = fill("tpl-item-form", { submit: t(item ? "store.manage.save" : "store.manage.add_submit") });
  formSeq += 1;
  for (const label of $$("[data-label-for]", form)) {
    const control = form.elements.namedItem(label.dataset.labelFor);
    control.id = `if${formSeq}-${label.dataset.labelFor}`;
    label.htmlFor = control.id;
  }
  const picker = photoPicker($("[data-photo-slot]", form), cid, { max: 1 });
  if (item) {
    form.elements.name.value = item.name;
    form.elements.description.value = item.description || "";
    form.elements.price.value = String(item.price);
    form.elements.stock.value = String(item.stock);
    form.elements.per_person_limit.value = item.per_person_limit ? String(item.per_person_limit) : "";
    form.elements.sponsor.value = item.sponsor;
    form.elements.sponsor_kind.value = item.sponsor_kind || "";
    form.elements.on_sale.checked = item.on_sale;
  }
  if (cancel) {
    const button = $("[data-cancel]", form);
    button.hidden = false;
    button.addEventListener("click", cancel);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const number = (name) => (form.elements[name].value.trim() === "" ? null : Number(form.elements[name].value));
    const body = {
      name: form.elements.name.value.trim(), description: form.elements.description.value.trim(),
      price: number("price"), stock: number("stock"), per_person_limit: number("per_person_limit") || null,
      sponsor: form.elements.sponsor.value.trim(), sponsor_kind: form.elements.sponsor_kind.value,
      on_sale: form.elements.on_sale.checked,
    };
    if (!body.sponsor) body.sponsor_kind = "";
    if (item && body.per_person_limit === null) delete body.per_person_limit; // the API keeps a limit unless given
    if (picker.ids().length) body.photo_upload_id = picker.ids()[0];
    const problems = [];
    if (!body.name) problems.push(["name", t("store.manage.name_missing")]);
    if (!(Number.isInteger(body.price) && body.price >= 1)) problems.push(["price", t("store.manage.price_bad")]);
    if (!(Number.isInteger(body.stock) && body.stock >= 0)) problems.push(["stock", t("store.manage.stock_bad")]);
    if (picker.uploading()) problems.push(["photo_upload_id", t("ui.photos.wait")]);
    if (fieldErrors(form, problems)) return;
    const submit = $('[type="submit"]', form);
    busy(submit, true);
    try {
      const saved = item
        ? await api("PATCH", communityPath(cid, `/store/items/${encodeURIComponent(item.id)}`), { body })
        : await api("POST", communityPath(cid, "/store/items"), { body });
      toast(t(item ? "store.manage.saved" : "store.manage.added", { name: saved.name }));
      if (!item) {
        form.reset();
        picker.reset();
      }
      done(saved);
    } catch (error) {
      showErrors(form, error);
    } finally {
      busy(submit, false);
    }
  });
  return form;
}

async function loadOrders(fresh) {
  const params = new URLSearchParams({ status: ordersStatus, limit: "20" });
  if (!fresh && ordersCursor) params.set("cursor", ordersCursor);
  const page = await api("GET", `${communityPath(cid, "/store/orders")}?${params}`);
  const list = $("[data-orders]");
  const cards = page.items.map(orderCard);
  if (fresh) list.replaceChildren(...cards);
  else list.append(...cards);
  ordersCursor = page.next_cursor;
  $("[data-orders-more]").hidden = !ordersCursor;
  $("[data-orders-empty]").hidden = list.children.length > 0;
}

function orderCard(order) {
  const node = fill("tpl-staff-order", { name: order.item_name, meta: orderMeta(order) });
  $('[data-slot="who"]', node).replaceChildren(joinNodes([order.person_name ? quoted(order.person_name) : "",
    t("store.manage.prefix", { prefix: order.prefix })]));
  node.dataset.orderId = order.id;
  $("[data-badge]", node).replaceChildren(orderBadge(order));
  const actions = $("[data-actions]", node);
  if (order.locked) $('[data-slot="meta"]', node).textContent += ` · ${t("store.manage.locked")}`;
  if (order.actions.includes("cancel")) {
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn--danger btn--small";
    cancel.textContent = t("store.manage.cancel_order");
    confirmTap(cancel, t("store.orders.cancel_sure"), async () => {
      busy(cancel, true);
      try {
        const updated = await api("POST", communityPath(cid,
          `/store/orders/${encodeURIComponent(order.id)}/transitions`), { body: { action: "cancel" } });
        node.replaceWith(orderCard(updated));
        toast(t("store.orders.cancelled"));
      } catch (error) {
        toast(errorMessage(error), "error");
        busy(cancel, false);
      }
    });
    actions.append(cancel);
  }
  return node;
}

/** A spreadsheet of the month, fetched with the session's token and saved as a file. */
async function exportFile(button) {
  const month = $("[data-month]").value;
  const format = button.dataset.format;
  const path = communityPath(cid, `/${button.dataset.export}.${format}${month ? `?month=${month}` : ""}`);
  busy(button, true);
  try {
    await api("GET", "/me"); // refreshes the session first if it must
    const response = await fetch(`/api/v1${path}`, {
      headers: { Authorization: `Bearer ${localStorage.getItem("wg_access")}` }, credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${button.dataset.export.split("/").pop()}-${month || "all"}.${format}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (error) {
    toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
  }
}
