// /c/{cid}/admin/members: who belongs, with roles, building and (for grid workers 网格员) the
// grids they look after; the committee changes all three here.
// Phones come from the API already masked for everyone but the committee.

import { api, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { start } from "../shell.js";
import {
  $, $$, busy, can, cidOfPage, clearErrors, communityPath, errorMessage, fill, joinNodes, pageData, quoted,
  roleChips, showErrors, showFailure, toast, tQuoted, userOption,
} from "../ui.js";

const cid = cidOfPage();
const { permissions } = pageData();
let cursor = null;
let query = "";
let mayManage = false;
let kind = "community";
let grids = [];
let buildings = [];

start(async () => {
  const [community, gridRows, buildingRows] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", communityPath(cid, "/grids"), { keep: true }),
    api("GET", communityPath(cid, "/buildings"), { keep: true }),
  ]);
  mayManage = can(permissions, "members.manage", community.my_roles);
  kind = community.kind === "village" ? "village" : "community";
  grids = gridRows;
  buildings = buildingRows;
  await loadPage(true);
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
  showPlaces(card, member);
  wirePlaces(card, member);
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
      showPlaces(card, member);
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

function nameList(ids, rows) {
  const names = new Map(rows.map((row) => [row.id, row.name]));
  return ids.map((id) => names.get(id)).filter(Boolean).join(t("ui.common.list_sep"));
}

/** The member's building and, for a grid worker, their grids, as one line under the roles. */
function showPlaces(card, member) {
  const parts = [];
  const building = nameList(member.building_id ? [member.building_id] : [], buildings);
  if (building) parts.push(tQuoted(`ui.places.${kind}.of`, { name: quoted(building) }));
  const gridNames = nameList(member.grid_ids || [], grids);
  if (gridNames) parts.push(tQuoted("ui.members.grids_of", { names: quoted(gridNames) }));
  const line = $('[data-slot="places"]', card);
  line.replaceChildren(joinNodes(parts));
  line.hidden = parts.length === 0;
}

function wirePlaces(card, member) {
  const open = $("[data-edit-places]", card);
  const form = $("[data-places-form]", card);
  const checks = $("[data-grid-checks]", form);
  const select = form.elements.building_id;
  open.textContent = t(`ui.places.${kind}.assign`);
  open.hidden = !mayManage;
  $('[data-slot="building_label"]', form).textContent = t(`ui.places.${kind}.one`);
  checks.replaceChildren(...grids.map((grid) => {
    const row = fill("tpl-grid-check", { name: grid.name });
    $("input", row).value = grid.id;
    return row;
  }));
  $("[data-no-grids]", form).hidden = grids.length > 0;
  for (const building of buildings) select.append(userOption(building.name, building.id));
  const gridBoxes = () => $$('input[name="grid_ids"]', form);
  const placesError = $("[data-places-error]", form);

  open.addEventListener("click", () => {
    // Only a grid worker looks after grids; anyone may live in a building.
    $("[data-grids-field]", form).hidden = !member.roles.includes("grid_worker");
    for (const box of gridBoxes()) box.checked = (member.grid_ids || []).includes(box.value);
    select.value = member.building_id || "";
    clearErrors(form);
    placesError.textContent = "";
    form.hidden = false;
    open.hidden = true;
  });
  $("[data-cancel]", form).addEventListener("click", () => {
    form.hidden = true;
    open.hidden = false;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    if (!$("[data-grids-field]", form).hidden) {
      const chosen = gridBoxes().filter((box) => box.checked).map((box) => box.value);
      if (!sameSet(chosen, member.grid_ids || [])) body.grid_ids = chosen;
    }
    const building = select.value || null;
    if (building !== (member.building_id || null)) body.building_id = building;
    const done = () => {
      form.hidden = true;
      open.hidden = false;
    };
    if (Object.keys(body).length === 0) {
      done();
      return;
    }
    const submit = $('[type="submit"]', form);
    busy(submit, true);
    try {
      const updated = await api("PATCH", communityPath(cid, `/members/${encodeURIComponent(member.id)}`), { body });
      Object.assign(member, updated);
      showPlaces(card, member);
      done();
      toast(t("ui.members.places_saved", { name: member.name }));
    } catch (error) {
      showErrors(form, error);
      placesError.textContent = errorMessage(error);
    } finally {
      busy(submit, false);
    }
  });
}

function sameSet(a, b) {
  return a.length === b.length && a.every((item) => b.includes(item));
}
