// Words and badges the poll pages share (the list and the poll page): status, kind, secret or
// named, the time left, the turnout. Not a page of its own.

import { t } from "../i18n.js";
import { badge, capitalised, formatDateTime } from "../ui.js";

const STATUS_KIND = { open: "success", scheduled: "info", draft: "", closed: "warning", notice: "info", final: "" };

export function statusBadge(poll) {
  // A label standing on its own: "Open" (the catalogue has it as said in a sentence, "now open").
  const node = badge(capitalised(t(`ui.poll.status.${poll.status}`)), STATUS_KIND[poll.status] || "");
  node.dataset.status = poll.status;
  return node;
}

export function pollBadges(poll) {
  const out = [statusBadge(poll), badge(t(`ui.poll_page.kind.${poll.kind}`))];
  const secret = badge(t(poll.secret ? "ui.poll_page.secret" : "ui.poll_page.named"), poll.secret ? "" : "warning");
  secret.dataset.secret = poll.secret ? "yes" : "no";
  out.push(secret);
  if (poll.passed === true) out.push(badge(t("ui.poll_page.passed"), "success"));
  if (poll.passed === false) out.push(badge(t("ui.poll_page.failed"), "danger"));
  return out;
}

/** "还剩 2 天 3 小时", "不到 1 分钟" — how long until `iso`, in words. */
export function timeLeft(iso, now = Date.now()) {
  const minutes = Math.floor((Date.parse(iso) - now) / 60000);
  if (minutes < 1) return t("ui.poll_page.left.under_minute");
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return t("ui.poll_page.left.days", { days, hours });
  if (hours > 0) return t("ui.poll_page.left.hours", { hours, minutes: minutes % 60 });
  return t("ui.poll_page.left.minutes", { minutes });
}

/** One line about when: time left while open, the start when scheduled, the close once ended. */
export function timeLine(poll, now = Date.now()) {
  if (!poll.closes_at && !poll.closed_at) {
    if (poll.status === "open") return t("ui.poll_page.closes_by_hand");
    if (poll.status === "scheduled" || poll.status === "draft") {
      return poll.opens_at ? t("ui.poll_page.opens_at", { when: formatDateTime(poll.opens_at) }) : "";
    }
  }
  if (poll.status === "open") {
    return Date.parse(poll.closes_at) > now
      ? t("ui.poll_page.closes_in", { left: timeLeft(poll.closes_at, now), when: formatDateTime(poll.closes_at) })
      : t("ui.poll_page.closing_now");
  }
  if (poll.status === "scheduled" || poll.status === "draft") {
    return poll.opens_at ? t("ui.poll_page.opens_at", { when: formatDateTime(poll.opens_at) })
      : t("ui.poll_page.closes_at", { when: formatDateTime(poll.closes_at) });
  }
  return t("ui.poll_page.closed_at", { when: formatDateTime(poll.closed_at || poll.closes_at) });
}

export function turnoutText(poll) {
  const key = poll.electorate === "residents" ? "ui.poll_page.turnout_people" : "ui.poll_page.turnout_households";
  return t(key, { voted: poll.voted_count, size: poll.electorate_size });
}
