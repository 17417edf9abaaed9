// /c/{cid}/queue: the handler's queue 办 — issues dispatched to me or my unit, soonest
// deadline first, with start and resolve (after-photo and note) in place.

import { choices, pagedList, staffOnly } from "../issues.js";
import { rememberCommunity, start } from "../shell.js";
import { cidOfPage } from "../ui.js";

const cid = cidOfPage();

start(async () => {
  rememberCommunity(cid);
  if (!(await staffOnly(cid, "issues.report_as_staff"))) return;
  const ctx = { cid, choices: choices(cid), actions: true };
  const list = pagedList(cid, () => new URLSearchParams({
    mine: "handling", status: "dispatched,in_progress,reopened", sort: "deadline" }), ctx);
  await list.load(true);
});
