// /c/{cid}/polls: the community's polls 居民决策 — open ones first (已投/未投, time left,
// turnout), then those about to start, then the decided ones with their outcome in one line.
// The committee also sees its drafts and the link to 发起表决.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, $$, badge, busy, can, cidOfPage, communityPath, errorMessage, fill, pageData, setQuotedText, toast,
} from "../ui.js";
import { pollBadges, timeLine, turnoutText } from "./poll-parts.js";

const cid = cidOfPage();
const ALL = [
  { key: "open", statuses: "open" },
  { key: "scheduled", statuses: "scheduled" },
  { key: "draft", statuses: "draft", manager: true },
  { key: "ended", statuses: "closed,notice,final" },
];
let manager = false;
let generation = 0;

start(async () => {
  rememberCommunity(cid);
  const community = await api("GET", communityPath(cid), { keep: true });
  manager = can(pageData().permissions, "polls.manage", community.my_roles);
  $("[data-new-link]").hidden = !manager;
  const tabs = $$("[data-tab]");
  const wanted = new URLSearchParams(window.location.search).get("status") || "";
  for (const tab of tabs) {
    tab.setAttribute("aria-selected", tab.dataset.tab === wanted ? "true" : "false");
    tab.addEventListener("click", () => {
      for (const other of tabs) other.setAttribute("aria-selected", other === tab ? "true" : "false");
      const status = tab.dataset.tab;
      history.replaceState(null, "", `${window.location.pathname}${status ? `?status=${status}` : ""}`);
      show(status).catch((error) => toast(errorMessage(error), "error"));
    });
  }
  await show(wanted);
});

async function show(status) {
  const mine = ++generation;
  const groups = status ? [{ key: status, statuses: status }] : ALL.filter((g) => manager || !g.manager);
  const box = $("[data-groups]");
  $("[data-loading]").hidden = false;
  const sections = groups.map((group) => {
    const section = fill("tpl-poll-group", { heading: t(`ui.polls.group.${group.key}`) });
    section.dataset.group = group.key;
    return { group, section, load: groupLoader(group, section) };
  });
  await Promise.all(sections.map((s) => s.load(true)));
  if (mine !== generation) return; // a newer tab was chosen meanwhile
  box.replaceChildren(...sections.map((s) => s.section));
  for (const { section } of sections) section.hidden = !$("[data-group-list]", section).children.length;
  // With one tab chosen the heading says what the tab says already.
  if (status) for (const title of $$(".section-title", box)) title.hidden = true;
  $("[data-loading]").hidden = true;
  $("[data-empty]").hidden = sections.some(({ section }) => !section.hidden);
}

function groupLoader(group, section) {
  let cursor = null;
  const more = $("[data-group-more]", section);
  const load = async (fresh) => {
    const params = new URLSearchParams({ status: group.statuses, limit: "20" });
    if (!fresh && cursor) params.set("cursor", cursor);
    busy(more, true);
    try {
      const page = await api("GET", `${communityPath(cid, "/polls")}?${params}`, { keep: fresh });
      const list = $("[data-group-list]", section);
      const cards = page.items.map(card);
      if (fresh) list.replaceChildren(...cards);
      else list.append(...cards);
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } finally {
      busy(more, false);
    }
  };
  more.addEventListener("click", () => load(false).catch((error) => toast(errorMessage(error), "error")));
  return load;
}

function card(poll) {
  const node = fill("tpl-poll-card", {
    title: poll.title,
    when: timeLine(poll),
    summary: poll.results_visible && poll.summary ? poll.summary : "",
  });
  node.dataset.pollId = poll.id;
  node.dataset.status = poll.status;
  $("[data-link]", node).href = `/c/${encodeURIComponent(cid)}/polls/${encodeURIComponent(poll.id)}`;
  const badges = $("[data-badges]", node);
  badges.replaceChildren(...pollBadges(poll));
  if (poll.status === "open" && poll.me && poll.me.eligible) {
    const voted = badge(t(poll.me.voted ? "ui.polls.voted" : "ui.polls.not_voted"),
      poll.me.voted ? "success" : "warning");
    voted.dataset.voted = poll.me.voted ? "yes" : "no";
    badges.prepend(voted);
  }
  if (poll.status !== "draft" && poll.status !== "scheduled") {
    const turnout = $("[data-turnout]", node);
    turnout.hidden = false;
    $('[data-slot="turnout"]', turnout).textContent = turnoutText(poll);
    const share = poll.electorate_size ? Math.min(100, (100 * poll.voted_count) / poll.electorate_size) : 0;
    $("[data-turnout-fill]", turnout).style.width = `${share}%`;
  }
  const summary = $('[data-slot="summary"]', node);
  setQuotedText(summary, summary.textContent, poll.options.map((o) => o.label));
  summary.hidden = !summary.textContent;
  if (poll.passed === true) summary.classList.add("is-passed");
  if (poll.passed === false) summary.classList.add("is-failed");
  return node;
}
