// /c/{cid}/admin/places: the committee's map of the community — grids (网格), the buildings
// in each (村民小组 in a village), and each building's households, loaded when tapped.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { start } from "../shell.js";
import {
  $, $$, busy, can, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fill, joinNodes, pageData,
  quoted, showErrors, toast, tQuoted, userOption,
} from "../ui.js";

const cid = cidOfPage();
const { permissions } = pageData();
const AREA = /^\d{1,8}(\.\d{1,2})?$/;
let kind = "community";
let mayManage = false;
let grids = [];
let buildings = [];

start(async () => {
  const [community, gridRows, buildingRows] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", communityPath(cid, "/grids"), { keep: true }),
    api("GET", communityPath(cid, "/buildings"), { keep: true }),
  ]);
  kind = community.kind === "village" ? "village" : "community";
  mayManage = can(permissions, "places.manage", community.my_roles);
  grids = gridRows;
  buildings = buildingRows;
  sayKind(document);
  for (const form of $$("[data-manage]")) form.hidden = !mayManage;
  const gridForm = $("[data-grid-form]");
  gridForm.addEventListener("submit", (event) => {
    event.preventDefault();
    createGrid(gridForm);
  });
  const buildingForm = $("[data-building-form]");
  buildingForm.addEventListener("submit", (event) => {
    event.preventDefault();
    createBuilding(buildingForm);
  });
  render();
  $("[data-loading]").hidden = true;
  $("[data-places]").hidden = false;
});

/** Put the community's or the village's words into [data-kind-text] and [data-kind-placeholder]. */
function sayKind(root) {
  for (const element of $$("[data-kind-text]", root)) {
    element.textContent = t(`ui.places.${kind}.${element.dataset.kindText}`);
  }
  for (const input of $$("[data-kind-placeholder]", root)) {
    input.placeholder = t(`ui.places.${kind}.${input.dataset.kindPlaceholder}`);
  }
}

function render() {
  renderGrids();
  renderGridChoice();
  renderBuildings();
}

function renderGrids() {
  const list = $("[data-grids]");
  list.replaceChildren(...grids.map((grid) => fill("tpl-grid", {
    name: grid.name,
    count: t(`ui.places.${kind}.count`, { count: buildings.filter((b) => b.grid_id === grid.id).length }),
  })));
  list.hidden = grids.length === 0;
  $("[data-grids-empty]").hidden = grids.length > 0;
}

function renderGridChoice() {
  const select = $("#building-grid");
  const chosen = select.value;
  select.replaceChildren(select.options[0], ...grids.map((grid) => userOption(grid.name, grid.id)));
  select.value = grids.some((grid) => grid.id === chosen) ? chosen : "";
}

function renderBuildings() {
  // Cards already on screen are kept, so households someone opened stay open.
  const cards = new Map($$("[data-building-id]").map((card) => [card.dataset.buildingId, card]));
  const groups = [...grids.map((grid) => ({ id: grid.id, title: quoted(grid.name) })),
    { id: null, title: t("ui.places.no_grid") }];
  const sections = [];
  for (const group of groups) {
    const inside = buildings.filter((b) => (b.grid_id || null) === group.id);
    if (inside.length === 0) continue;
    const count = t(`ui.places.${kind}.count`, { count: inside.length });
    const section = fill("tpl-group", { title: joinNodes([group.title, count]) });
    $("[data-buildings]", section).append(...inside.map((b) => cards.get(b.id) || buildingCard(b)));
    sections.push(section);
  }
  $("[data-groups]").replaceChildren(...sections);
  $("[data-buildings-empty]").hidden = buildings.length > 0;
}

function buildingCard(building) {
  const card = fill("tpl-building", { name: building.name });
  card.dataset.buildingId = building.id;
  sayKind(card);
  const toggle = $("[data-toggle]", card);
  const panel = $("[data-households]", card);
  const form = $("[data-household-form]", card);
  form.hidden = !mayManage;
  const state = { loaded: false, cursor: null };

  toggle.addEventListener("click", async () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.textContent = t(open ? "ui.places.hide_households" : "ui.places.show_households");
    if (open && !state.loaded) await loadHouseholds(card, building, state, true);
  });
  $("[data-households-more]", card).addEventListener("click", () => loadHouseholds(card, building, state, false));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    createHousehold(card, building, form);
  });
  return card;
}

async function loadHouseholds(card, building, state, fresh) {
  const more = $("[data-households-more]", card);
  const problem = $("[data-households-error]", card);
  const params = new URLSearchParams({ building_id: building.id, limit: "50" });
  if (!fresh && state.cursor) params.set("cursor", state.cursor);
  problem.textContent = "";
  busy(more, true);
  try {
    const page = await api("GET", `${communityPath(cid, "/households")}?${params}`, { keep: fresh });
    const list = $("[data-household-list]", card);
    const rows = page.items.map(householdRow);
    if (fresh) list.replaceChildren(...rows);
    else list.append(...rows);
    state.loaded = true;
    state.cursor = page.next_cursor;
    more.hidden = !state.cursor;
    showHouseholdCount(card);
  } catch (error) {
    problem.textContent = errorMessage(error);
  } finally {
    busy(more, false);
    $("[data-households-loading]", card).hidden = true;
  }
}

function showHouseholdCount(card) {
  const list = $("[data-household-list]", card);
  list.hidden = list.children.length === 0;
  $("[data-households-empty]", card).hidden = list.children.length > 0;
}

function householdName(household) {
  const room = household.room || household.address || "—";
  // A unit is often written "1单元": the words around it say 单元 once ("1单元101", "Unit 1, 101"),
  // as app/communities/service.py's unit_number does.
  const unit = (household.unit || "").trim().replace(/\u5355\u5143$/, "").trim();
  return unit ? t("ui.places.unit_room", { unit, room }) : room;
}

/** householdName with the unit and room as written (user content). */
function householdNode(household) {
  const room = quoted(household.room || household.address || "—");
  const unit = (household.unit || "").trim().replace(/\u5355\u5143$/, "").trim();
  return unit ? tQuoted("ui.places.unit_room", { unit: quoted(unit), room }) : room;
}

function areaText(value) {
  if (value === null || value === undefined || value === "") return t("ui.places.no_area");
  return t("ui.places.area_value", { area: String(Number(value)) });
}

function householdRow(household) {
  return fill("tpl-household", { name: householdNode(household), area: areaText(household.owner_area_m2) });
}

async function createGrid(form) {
  clearErrors(form);
  const name = form.elements.name.value.trim();
  if (!name) {
    fieldError(form, "name", t("ui.places.name_required"));
    return;
  }
  const submit = $('[type="submit"]', form);
  busy(submit, true);
  try {
    const grid = await api("POST", communityPath(cid, "/grids"), { body: { name } });
    // The server's order (1, 2, …, 10), not one of the page's own.
    grids = await api("GET", communityPath(cid, "/grids"), { keep: true }).catch(() => [...grids, grid]);
    form.reset();
    render();
    toast(t("ui.places.grid_created", { name: grid.name }));
  } catch (error) {
    showPlaceError(form, error, "name");
  } finally {
    busy(submit, false);
  }
}

async function createBuilding(form) {
  clearErrors(form);
  const name = form.elements.name.value.trim();
  if (!name) {
    fieldError(form, "name", t("ui.places.name_required"));
    return;
  }
  const body = {
    name, grid_id: form.elements.grid_id.value || null, kind: kind === "village" ? "village_group" : "building",
  };
  const submit = $('[type="submit"]', form);
  busy(submit, true);
  try {
    const building = await api("POST", communityPath(cid, "/buildings"), { body });
    buildings = await api("GET", communityPath(cid, "/buildings"), { keep: true })
      .catch(() => [...buildings, building]);
    form.elements.name.value = "";
    render();
    toast(t(`ui.places.${kind}.created`, { name: building.name }));
  } catch (error) {
    showPlaceError(form, error, "name");
  } finally {
    busy(submit, false);
  }
}

async function createHousehold(card, building, form) {
  clearErrors(form);
  const unit = form.elements.unit.value.trim();
  const room = form.elements.room.value.trim();
  const area = form.elements.owner_area_m2.value.trim();
  if (!room) {
    fieldError(form, "room", t(`ui.places.${kind}.room_required`));
    return;
  }
  if (area && !AREA.test(area)) {
    fieldError(form, "owner_area_m2", t("ui.places.area_invalid"));
    return;
  }
  const body = { building_id: building.id, unit, room, owner_area_m2: area || null };
  const submit = $('[type="submit"]', form);
  busy(submit, true);
  try {
    const household = await api("POST", communityPath(cid, "/households"), { body });
    $("[data-household-list]", card).append(householdRow(household));
    showHouseholdCount(card);
    form.reset();
    toast(t("ui.places.household_created", { name: householdName(household) }));
  } catch (error) {
    showPlaceError(form, error, "room");
  } finally {
    busy(submit, false);
  }
}

/** The server's reasons on the form; a duplicate (409) is said at the field it is about. */
function showPlaceError(form, error, field) {
  showErrors(form, error);
  if (error && error.status === 409 && fieldError(form, field, error.message)) {
    $("[data-form-error]", form).textContent = "";
  }
}
