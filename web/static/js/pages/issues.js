// /c/{cid}/issues: the community's issue list 问题清单 with a search box (the API's Chinese
// full-text search), filters, sort and "load more"; reports still waiting on this phone for the
// network are shown on top.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { categoryOption, choices, pagedList } from "../issues.js";
import { listWrites, onQueueChange } from "../queue.js";
import { rememberCommunity, start } from "../shell.js";
import { $, cidOfPage, communityPath, fill, toast, errorMessage } from "../ui.js";

const cid = cidOfPage();
const OPEN = "reported,accepted,dispatched,in_progress,reopened";

start(async () => {
  rememberCommunity(cid);
  const form = $("[data-filters]");
  const params = new URLSearchParams(window.location.search);
  for (const name of ["status", "mine", "sort", "category_id", "q"]) {
    if (params.get(name) && form.elements[name]) form.elements[name].value = params.get(name);
  }
  form.elements.overdue.checked = params.get("overdue") === "1";
  const ctx = { cid, choices: choices(cid) };
  const list = pagedList(cid, () => query(form), ctx);
  const load = async () => {
    await list.load(true);
    // Nothing found for a search says so, and how to get out of it; not "no issues here yet".
    const q = form.elements.q.value.trim();
    $("[data-empty-all]").hidden = Boolean(q);
    $("[data-empty-search]").hidden = !q;
    $("[data-empty-search-title]").textContent = t("ui.issues.search_empty", { q });
  };
  let asked = `${query(form)}`;
  const reload = () => {
    if (`${query(form)}` === asked) return; // Enter, then the field's change as the keyboard closes: once
    asked = `${query(form)}`;
    const shown = new URLSearchParams();
    for (const [name, value] of query(form)) shown.set(name, value === "true" ? "1" : value);
    if (form.elements.status.value === "open") shown.set("status", "open");
    history.replaceState(null, "", `${window.location.pathname}${shown.size ? `?${shown}` : ""}`);
    load().catch((error) => toast(errorMessage(error), "error"));
  };
  form.addEventListener("change", reload);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    form.elements.q.blur(); // close the phone's keyboard to show what was found
    reload();
  });
  form.elements.q.addEventListener("search", reload); // the field's own clear (×) button
  $("[data-search-clear]").addEventListener("click", () => {
    form.elements.q.value = "";
    reload();
    form.elements.q.focus();
  });
  showQueued();
  onQueueChange(showQueued);
  const categories = api("GET", communityPath(cid, "/categories"), { keep: true }).then((rows) => {
    const select = form.elements.category_id;
    const chosen = params.get("category_id") || "";
    for (const c of rows) select.append(categoryOption(c));
    select.value = chosen;
  });
  await Promise.all([load(), categories]);
});

function query(form) {
  const out = new URLSearchParams();
  const status = form.elements.status.value;
  if (status) out.set("status", status === "open" ? OPEN : status);
  for (const name of ["category_id", "mine"]) if (form.elements[name].value) out.set(name, form.elements[name].value);
  const q = form.elements.q.value.trim();
  if (q) out.set("q", q);
  if (form.elements.sort.value !== "-created") out.set("sort", form.elements.sort.value);
  if (form.elements.overdue.checked) out.set("overdue", "true");
  return out;
}

async function showQueued() {
  const box = $("[data-queued]");
  const mine = `/communities/${encodeURIComponent(cid)}/issues`;
  const waiting = (await listWrites())
    .filter((item) => item.url === mine && item.method === "POST" && item.status !== "sent" && item.status !== "failed");
  box.replaceChildren(...waiting.map((item) => fill("tpl-queued-card", { title: item.body.title })));
  box.hidden = waiting.length === 0;
  if (waiting.length === 0 && box.dataset.had) {
    delete box.dataset.had;
    toast(t("ui.issue_new.sent"));
  }
  if (waiting.length) box.dataset.had = "1";
}
