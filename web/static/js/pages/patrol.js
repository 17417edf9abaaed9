// /c/{cid}/patrol: the grid worker's round 巡 — open issues by deadline and the overdue ones,
// each with its steps in place (当场办结 with a photo), and a shortcut to report from patrol.
// Only the grids this worker looks after (mine=grid).

import { choices, pagedList, staffOnly, tabs, OPEN } from "../issues.js";
import { rememberCommunity, start } from "../shell.js";
import { cidOfPage } from "../ui.js";

const cid = cidOfPage();

start(async () => {
  rememberCommunity(cid);
  let tab = "open";
  const ctx = { cid, choices: choices(cid), actions: true };
  const list = pagedList(cid, () => new URLSearchParams(tab === "overdue"
    ? { mine: "grid", overdue: "true", sort: "deadline" }
    : { mine: "grid", status: OPEN.join(","), sort: "deadline" }), ctx);
  tab = tabs((name) => {
    tab = name;
    list.load(true);
  });
  // Tabs are wired first, so a tap while the page asks who may use it is not lost.
  if (!(await staffOnly(cid, "issues.report_as_staff"))) return;
  await list.load(true);
});
