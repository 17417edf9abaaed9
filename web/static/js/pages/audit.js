// /c/{cid}/admin/audit: the audit log, read-only — who changed what, when, and from what to
// what. Newest first. The server gives each entry in words (the action, each field, enum
// values, the names behind ids); the page formats the moments in Beijing time.

import { t } from "../i18n.js";
import { start } from "../shell.js";
import { $, cidOfPage, communityPath, cursorList, fill, formatDateTime, quoted, setQuotedText, toast } from "../ui.js";

const cid = cidOfPage();
const loadPage = cursorList(communityPath(cid, "/audit"), entryCard);
// Objects with a page of their own: the entry links to it.
const PAGES = { issue: "issues", poll: "polls" };

start(async () => {
  $("[data-more]").addEventListener("click",
    () => loadPage(false).catch(() => toast(t("ui.error.load_failed"), "error")));
  await loadPage(true);
});

function entryCard(entry) {
  const card = fill("tpl-entry", {
    what: entry.what,
    who: entry.actor_name ? quoted(entry.actor_name) : t("ui.audit.system"),
    when: formatDateTime(entry.created_at),
  });
  $('[data-slot="when"]', card).dateTime = entry.created_at;
  const object = $("[data-object]", card);
  if (entry.object_name) {
    if (PAGES[entry.object_type] && entry.object_id) {
      const link = document.createElement("a");
      link.href = `/c/${encodeURIComponent(cid)}/${PAGES[entry.object_type]}/${encodeURIComponent(entry.object_id)}`;
      link.textContent = entry.object_name;
      link.dataset.userContent = "";
      object.append(link);
    } else {
      object.replaceChildren(quoted(entry.object_name));
    }
    object.hidden = false;
  }
  const rows = entry.changes.flatMap((change) => {
    const name = document.createElement("dt");
    name.textContent = change.label;
    const value = document.createElement("dd");
    if (change.before && change.after) value.append(shown(change.before), " → ", shown(change.after));
    else value.append(shown(change.after || change.before));
    return [name, value];
  });
  const list = $("[data-changes]", card);
  list.replaceChildren(...rows);
  list.hidden = rows.length === 0;
  return card;
}

function shown(value) {
  if (value.time) return formatDateTime(value.time);
  if (value.quoted) return quoted(value.text);
  const words = document.createElement("span");
  setQuotedText(words, value.text, value.quotes || []);
  return words;
}
