// /c/{cid}/admin/members: who belongs, with roles; the committee changes roles here.
// Phones come from the API already masked for everyone but the committee.

import { api, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { start } from "../shell.js";
import {
  $, $$, busy, can, cidOfPage, clearErrors, communityPath, fill, pageData, roleChips, showErrors,
  showFailure, toast,
} from "../ui.js";

const cid = cidOfPage();
const { permissions } = pageData();
let cursor = null;
let query = "";
let mayManage = false;

start(async () => {
  const [community] = await Promise.all([api("GET", communityPath(cid), { keep: true }), loadPage(true)]);
  mayManage = can(permissions, "members.manage", community.my_roles);
  for (const button of $$("[data-edit]")) button.hidden = !mayManage;
  $("[data-search]").addEventListener("submit", (event) => {
    event.preventDefault();
    query = event.target.elements.q.value.trim();
    loadPage(true);
  });
  $("[data-more]").addEventListener("click", () => loadPage(false));
});

async function loadPage(fresh) {
  const list = $("[data-list]");
  const more = $("[data-more]");
  const params = new URLSearchParams({ limit: "20" });
  if (query) params.set("q", query);
  if (!fresh && cursor) params.set("cursor", cursor);
  busy(more, true);
  let page;
  try {
    page = await api("GET", `${communityPath(cid, "/members")}?${params}`, { keep: fresh && !query });
  } catch (error) {
    busy(more, false);
    if (fresh || error instanceof SignedOut) showFailure(error);
    else toast(t("ui.error.load_failed"), "error");
    throw error;
  }
  busy(more, false);
  $("[data-loading]").hidden = true;
  const cards = page.items.map(memberCard);
  if (fresh) list.replaceChildren(...cards);
  else list.append(...cards);
  cursor = page.next_cursor;
  more.hidden = !cursor;
  $("[data-empty]").hidden = list.children.length > 0;
}

function memberCard(member) {
  const card = fill("tpl-member", { name: member.name, phone: member.phone || t("ui.members.no_phone") });
  $("[data-verified]", card).hidden = !member.verified;
  roleChips($("[data-roles]", card), member.roles);
  const edit = $("[data-edit]", card);
  const form = $("[data-roles-form]", card);
  edit.hidden = !mayManage;
  edit.addEventListener("click", () => {
    for (const box of form.elements.roles) box.checked = member.roles.includes(box.value) || box.value === "resident";
    clearErrors(form);
    form.hidden = false;
    edit.hidden = true;
  });
  $("[data-cancel]", form).addEventListener("click", () => {
    form.hidden = true;
    edit.hidden = false;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const roles = Array.from(form.elements.roles).filter((box) => box.checked).map((box) => box.value);
    const submit = $('[type="submit"]', form);
    busy(submit, true);
    try {
      const updated = await api("PATCH", communityPath(cid, `/members/${encodeURIComponent(member.id)}`), {
        body: { roles },
      });
      Object.assign(member, updated);
      roleChips($("[data-roles]", card), member.roles);
      form.hidden = true;
      edit.hidden = false;
      toast(t("ui.members.saved", { name: member.name }));
    } catch (error) {
      showErrors(form, error);
    } finally {
      busy(submit, false);
    }
  });
  return card;
}
