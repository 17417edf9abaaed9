// /c/{cid}/admin/audit: the audit log, read-only — who changed what, when, and from what to
// what. Newest first; ids in before/after are shown as the names of grids and buildings.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { start } from "../shell.js";
import { $, cidOfPage, communityPath, cursorList, fill, formatDateTime, toast } from "../ui.js";

const cid = cidOfPage();
const loadPage = cursorList(communityPath(cid, "/audit"), entryCard);
const BUILDING_KIND = { building: "community", village_group: "village" };
let grids = new Map();
let buildings = new Map();

start(async () => {
  // Names for ids; the log still reads (with "set") when they cannot be had.
  const [gridRows, buildingRows] = await Promise.all([
    api("GET", communityPath(cid, "/grids"), { keep: true }).catch(() => []),
    api("GET", communityPath(cid, "/buildings"), { keep: true }).catch(() => []),
  ]);
  grids = new Map(gridRows.map((g) => [g.id, g.name]));
  buildings = new Map(buildingRows.map((b) => [b.id, b.name]));
  $("[data-more]").addEventListener("click",
    () => loadPage(false).catch(() => toast(t("ui.error.load_failed"), "error")));
  await loadPage(true);
});


function entryCard(entry) {
  const card = fill("tpl-entry", {
    what: t(`ui.audit.action.${entry.action}`),  // an action without a label shows its key
    who: entry.actor_name || t("ui.audit.system"),
    when: formatDateTime(entry.created_at),
  });
  $('[data-slot="when"]', card).dateTime = entry.created_at;
  const rows = changes(entry).flatMap(([field, text]) => {
    const name = document.createElement("dt");
    name.textContent = t(`ui.audit.field.${field}`);
    const value = document.createElement("dd");
    value.textContent = text;
    return [name, value];
  });
  const list = $("[data-changes]", card);
  list.replaceChildren(...rows);
  list.hidden = rows.length === 0;
  return card;
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function blank(value) {
  return value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
}

/** [field, "before → after"] for what changed; a creation or removal lists what it had. */
function changes(entry) {
  const before = entry.before || {};
  const after = entry.after || {};
  if (entry.before && entry.after) {
    const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return fields.filter((f) => !same(before[f], after[f]))
      .map((f) => [f, `${show(f, before[f])} → ${show(f, after[f])}`]);
  }
  const only = entry.after ? after : before;
  return Object.entries(only).filter(([f, v]) => !blank(v) && f !== "person_id").map(([f, v]) => [f, show(f, v)]);
}

function show(field, value) {
  const sep = t("ui.common.list_sep");
  if (blank(value)) return t("ui.audit.none");
  if (typeof value === "boolean") return t(value ? "ui.audit.yes" : "ui.audit.no");
  if (field === "roles") return value.map((role) => t(`ui.role.${role}`)).join(sep);
  if (field === "grid_ids") return value.map((id) => grids.get(id) || t("ui.audit.unknown")).join(sep);
  if (field === "grid_id") return grids.get(value) || t("ui.audit.unknown");
  if (field === "building_id") return buildings.get(value) || t("ui.audit.unknown");
  if (field === "kind" && value in BUILDING_KIND) return t(`ui.places.${BUILDING_KIND[value]}.one`);
  if (field === "status") return t(`ui.join_requests.status.${value}`);
  if (field === "owner_area_m2") return t("ui.places.area_value", { area: String(Number(value)) });
  if (field.endsWith("_id")) return t("ui.audit.set");
  if (Array.isArray(value)) return value.join(sep);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
