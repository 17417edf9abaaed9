// /c/{cid}/board: the honour board 光荣榜 — who gave most this month, this year or ever, in points
// or in hours, in the whole community or one grid. Someone who chose not to appear by name shows
// as a neighbour. Shareable: its short link, QR code and poster recruit in a WeChat group.

import { api, currentPersonId } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import { $, $$, cidOfPage, communityPath, errorMessage, fill, toast, wireShare } from "../ui.js";
import { amountText } from "./points-parts.js";

const cid = cidOfPage();
let generation = 0;

start(async () => {
  rememberCommunity(cid);
  const query = new URLSearchParams(window.location.search);
  for (const name of ["period", "unit"]) {
    const radio = query.get(name) && $(`[name="${name}"][value="${CSS.escape(query.get(name))}"]`);
    if (radio) radio.checked = true;
  }
  const grids = await api("GET", communityPath(cid, "/grids"), { keep: true }).catch(() => []);
  const select = $("[data-grid]");
  for (const g of grids) select.append(new Option(g.name, g.id));
  select.closest(".field").hidden = grids.length === 0;
  if (query.get("grid_id")) select.value = query.get("grid_id");
  for (const input of [...$$('[name="period"], [name="unit"]'), select]) {
    input.addEventListener("change", () => load().catch((error) => toast(errorMessage(error), "error")));
  }
  wireShare(communityPath(cid, "/points/board/share"), $("[data-copy]"));
  await load();
});

function choice() {
  return {
    period: $('[name="period"]:checked').value,
    unit: $('[name="unit"]:checked').value,
    grid_id: $("[data-grid]").value,
  };
}

async function load() {
  const mine = ++generation;
  const { period, unit, grid_id: gridId } = choice();
  const params = new URLSearchParams({ period, unit });
  if (gridId) params.set("grid_id", gridId);
  history.replaceState(null, "", `${window.location.pathname}?${params}`);
  $("[data-loading]").hidden = false;
  try {
    const board = await api("GET", `${communityPath(cid, "/points/board")}?${params}`, { keep: true });
    if (mine !== generation) return;
    render(board, unit, period, gridId);
  } finally {
    if (mine === generation) $("[data-loading]").hidden = true;
  }
}

function render(board, unit, period, gridId) {
  const rows = board.items || board.rows || [];
  const me = currentPersonId();
  const gridName = gridId ? $("[data-grid]").selectedOptions[0].textContent : t("points.board.whole");
  $('[data-slot="list_heading"]').textContent = t("points.board.list_heading", {
    period: board.period_label || t(`points.board.period.${period}`), where: board.scope_label || gridName,
    unit: t(`points.board.unit.${unit}`),
  });
  $("[data-list]").replaceChildren(...rows.map((row, i) => {
    const rank = row.rank || i + 1;
    const node = fill("tpl-board-row", {
      rank: String(rank),
      name: row.name || t("points.board.anonymous"),
      where: row.grid_name || row.building_name || "",
      amount: amountText(unit, row.amount ?? row.gained ?? 0),
    });
    node.dataset.rank = String(rank);
    if (row.person_id && row.person_id === me) node.classList.add("is-me");
    if (!row.name) node.dataset.anonymous = "";
    return node;
  }));
  $("[data-empty]").hidden = rows.length > 0;
  const meRow = $("[data-me]");
  const mine = board.me || null;
  meRow.hidden = !mine;
  if (mine) {
    meRow.textContent = mine.rank ? t("points.board.my_rank", { rank: mine.rank,
      amount: amountText(unit, mine.amount ?? mine.gained ?? 0) }) : t("points.board.not_ranked");
  }
  $("[data-board]").hidden = false;
}
