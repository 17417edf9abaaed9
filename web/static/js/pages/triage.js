// /c/{cid}/triage: the committee's board 拨 — new reports to accept, reject or merge, accepted
// ones to dispatch with a deadline, work in progress, resolved ones awaiting verification,
// and the overdue; every step in place.

import { choices, pagedList, staffOnly, tabs } from "../issues.js";
import { rememberCommunity, start } from "../shell.js";
import { cidOfPage } from "../ui.js";

const cid = cidOfPage();
const TABS = {
  reported: { status: "reported" },
  accepted: { status: "accepted" },
  working: { status: "dispatched,in_progress,reopened", sort: "deadline" },
  resolved: { status: "resolved" },
  overdue: { overdue: "true", sort: "deadline" },
};

start(async () => {
  rememberCommunity(cid);
  let tab = "reported";
  const ctx = { cid, choices: choices(cid), actions: true };
  const list = pagedList(cid, () => new URLSearchParams(TABS[tab]), ctx);
  tab = tabs((name) => {
    tab = name;
    list.load(true);
  });
  // Tabs are wired first, so a tap while the page asks who may use it is not lost.
  if (!(await staffOnly(cid, "issues.triage"))) return;
  await list.load(true);
});
