// /regions/{id}/escalations: the region view 督办 for street and district staff — the escalated
// open issues of every community below, grouped by community, each with why it escalated and
// how long it is overdue.

import { api, ApiError } from "../api.js";
import { t } from "../i18n.js";
import { categoryNode, issuePath, statusLabel } from "../issues.js";
import { start } from "../shell.js";
import { $, badge, busy, errorMessage, fill, formatDateTime, joinNodes, pageData, showFailure, toast } from "../ui.js";

const { region_id: regionId } = pageData();
const PAGE_SIZE = 50;
const HOUR = 3_600_000;
let cursor = null;
const groups = new Map(); // community_id → { node, count }

start(async () => {
  $("[data-more]").addEventListener("click", more);
  try {
    await load(true);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      showFailure(new ApiError(403, { detail: t("inbox.region.forbidden") }));
      return;
    }
    throw error;
  }
  $("[data-loading]").hidden = true;
  $("[data-region]").hidden = false;
});

async function load(fresh) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (!fresh && cursor) params.set("cursor", cursor);
  const page = await api("GET", `/regions/${encodeURIComponent(regionId)}/escalations?${params}`, { keep: fresh });
  for (const issue of page.items) add(issue);
  cursor = page.next_cursor;
  $("[data-more]").hidden = !cursor;
  $("[data-empty]").hidden = groups.size > 0;
}

async function more() {
  const button = $("[data-more]");
  busy(button, true);
  try {
    await load(false);
  } catch (error) {
    toast(errorMessage(error), "error");
  } finally {
    busy(button, false);
  }
}

function groupOf(issue) {
  let group = groups.get(issue.community_id);
  if (!group) {
    group = { node: fill("tpl-group", { name: issue.community_name }), count: 0 };
    group.node.dataset.community = issue.community_id;
    groups.set(issue.community_id, group);
    $("[data-groups]").append(group.node);
  }
  return group;
}

/** How long past its deadline, in the largest whole unit that reads well. */
export function overdueBy(deadline, now = Date.now()) {
  const late = now - new Date(deadline).getTime();
  if (late < HOUR) return t("inbox.region.overdue_by_minutes");
  if (late < 24 * HOUR) return t("inbox.region.overdue_by_hours", { count: Math.floor(late / HOUR) });
  return t("inbox.region.overdue_by_days", { count: Math.floor(late / (24 * HOUR)) });
}

function add(issue) {
  const group = groupOf(issue);
  const meta = [categoryNode(issue.category), issue.overdue && issue.deadline_at ? overdueBy(issue.deadline_at) : "",
    issue.reopen_count ? t("inbox.region.reopened", { count: issue.reopen_count }) : "",
    issue.escalated_at ? t("inbox.region.escalated_at", { when: formatDateTime(issue.escalated_at) }) : ""];
  const node = fill("tpl-escalation", { title: issue.title, meta: joinNodes(meta) });
  node.dataset.issueId = issue.id;
  const link = $("[data-link]", node);
  link.href = issuePath(issue.community_id, issue.id);
  const reason = issue.escalation_reason || (issue.overdue ? "overdue" : "reopened");
  const chips = [badge(t(`inbox.region.reason.${reason}`), "danger"), badge(statusLabel(issue.status))];
  chips[0].dataset.reason = reason;
  if (issue.overdue && reason !== "overdue") chips.push(badge(t("inbox.region.reason.overdue"), "warning"));
  $("[data-chips]", node).replaceChildren(...chips);
  $("[data-list]", group.node).append(node);
  group.count += 1;
  $('[data-slot="count"]', group.node).textContent = t("inbox.region.count", { count: group.count });
}
