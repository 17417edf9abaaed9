// /c/{cid}/tasks: the community's tasks 共建任务 by kind — volunteer jobs, adoptions 认领, micro-wishes
// 微心愿 and time-bank requests 时间银行 — those open to claim first, or those near me (where the
// phone is, if it will say). Links to my tasks, to post a wish or ask for help, and for organisers
// to their console.

import { api } from "../api.js";
import { rememberCommunity, start } from "../shell.js";
import { $, $$, busy, can, cidOfPage, communityPath, errorMessage, pageData, toast } from "../ui.js";
import { taskCard } from "./tasks-parts.js";

const cid = cidOfPage();
let kind = "";
let status = "";
let near = null;
let cursor = null;
let generation = 0;

start(async () => {
  rememberCommunity(cid);
  const community = await api("GET", communityPath(cid), { keep: true });
  $("[data-console-link]").hidden = !can(pageData().permissions, "tasks.organise", community.my_roles);
  const query = new URLSearchParams(window.location.search);
  const wanted = query.get("kind") || "";
  // A link may ask for one state (the home page's 待审核 card: ?kind=wish&status=pending).
  status = query.get("status") || "";
  if (status) $("[data-open-only]").checked = false;
  for (const tab of $$("[data-tab]")) {
    tab.setAttribute("aria-selected", tab.dataset.tab === wanted ? "true" : "false");
    tab.addEventListener("click", () => {
      for (const other of $$("[data-tab]")) other.setAttribute("aria-selected", other === tab ? "true" : "false");
      kind = tab.dataset.tab;
      status = "";
      history.replaceState(null, "", `${window.location.pathname}${kind ? `?kind=${kind}` : ""}`);
      reload();
    });
  }
  kind = wanted;
  $("[data-open-only]").addEventListener("change", () => {
    status = "";
    reload();
  });
  $("[data-near]").addEventListener("change", toggleNear);
  $("[data-more]").addEventListener("click", () => load(false).catch((error) => toast(errorMessage(error), "error")));
  await load(true);
});

function reload() {
  load(true).catch((error) => toast(errorMessage(error), "error"));
}

async function toggleNear() {
  const box = $("[data-near]");
  $("[data-near-failed]").hidden = true;
  if (!box.checked) {
    near = null;
    reload();
    return;
  }
  try {
    near = await where();
  } catch {
    box.checked = false;
    near = null;
    $("[data-near-failed]").hidden = false;
    return;
  }
  reload();
}

function where() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Error("no geolocation"));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => resolve(`${position.coords.latitude.toFixed(5)},${position.coords.longitude.toFixed(5)}`),
      reject, { enableHighAccuracy: false, timeout: 8000, maximumAge: 300000 },
    );
  });
}

async function load(fresh) {
  const mine = ++generation;
  const params = new URLSearchParams({ limit: "20" });
  if (kind) params.set("kind", kind);
  if (status) params.set("status", status);
  else if ($("[data-open-only]").checked) params.set("status", "open");
  if (near) params.set("near", near);
  if (!fresh && cursor) params.set("cursor", cursor);
  const more = $("[data-more]");
  busy(more, true);
  if (fresh) $("[data-loading]").hidden = false;
  try {
    const page = await api("GET", `${communityPath(cid, "/tasks")}?${params}`, { keep: fresh });
    if (mine !== generation) return;
    const list = $("[data-list]");
    const cards = page.items.map((task) => taskCard(task, cid));
    if (fresh) list.replaceChildren(...cards);
    else list.append(...cards);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    $("[data-empty]").hidden = list.children.length > 0;
  } finally {
    $("[data-loading]").hidden = true;
    busy(more, false);
  }
}
