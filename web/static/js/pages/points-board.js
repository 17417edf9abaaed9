// /c/{cid}/board: the honour board 光荣榜 — who gave most this month, this year or ever, in points
// or in hours, in the whole community or one grid. Someone who chose not to appear by name shows
// as a neighbour. The page's address (with its choices) can be passed on to neighbours.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import { $, $$, cidOfPage, communityPath, errorMessage, fill, toast, wireShare } from "../ui.js";
import { putSlots, quoted, tQuoted, userOption } from "./points-parts.js";

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
  for (const g of grids) select.append(userOption(g.name, g.id));
  select.closest(".field").hidden = grids.length === 0;
  if (query.get("grid_id")) select.value = query.get("grid_id");
  // A short link anyone may open (this month's board, unnamed neighbours unnamed), not this page's address.
  wireShare(communityPath(cid, "/points/board/share"), $("[data-copy]"));
  for (const input of [...$$('[name="period"], [name="unit"]'), select]) {
    input.addEventListener("change", () => load().catch((error) => toast(errorMessage(error), "error")));
  }
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
    render(board, unit, gridId);
  } finally {
    if (mine === generation) $("[data-loading]").hidden = true;
  }
}

function render(board, unit, gridId) {
  const where = gridId ? $("[data-grid]").selectedOptions[0].textContent : t("points.board.whole");
  putSlots(document.body, { list_heading: tQuoted("points.board.list_heading", {
    period: board.label, where: gridId ? quoted(where) : where, unit: t(`points.board.by.${unit}`),
  }) });
  $("[data-list]").replaceChildren(...board.rows.map(boardRow));
  $("[data-empty]").hidden = board.rows.length > 0;
  const me = $("[data-me]");
  const mine = board.my_row;
  me.hidden = !mine || board.rows.some((row) => row.me);
  if (mine) me.textContent = t("points.board.my_rank", { rank: mine.rank, amount: mine.amount_text });
  $("[data-board]").hidden = false;
}

function boardRow(row) {
  const node = fill("tpl-board-row", { rank: String(row.rank), name: row.name, amount: row.amount_text });
  node.dataset.rank = String(row.rank);
  if (row.me) {
    node.classList.add("is-me");
    node.setAttribute("aria-current", "true");
  }
  if (!row.named) node.dataset.anonymous = "";
  else $('[data-slot="name"]', node).setAttribute("data-user-content", "");
  return node;
}
