// /: what waits for me in my current community (a card per capability, from
// GET /communities/{cid}/home: the domains register their cards on the server, so this page
// draws any card it is given), my communities, switching the current one, joins waiting for
// the committee.

import { api, isSignedIn, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { submitWrite } from "../queue.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, communityPath, fill, formatDateTime, quoted, roleChips, safeNext, showFailure, toast, tQuoted,
} from "../ui.js";

start(async () => {
  if (!isSignedIn()) {
    showSignedOut();
    return;
  }
  try {
    render(await api("GET", "/me", { keep: true }));
  } catch (error) {
    if (error instanceof SignedOut) showSignedOut();
    else showFailure(error);
  }
});

function showSignedOut() {
  $("[data-loading]").hidden = true;
  $("[data-signed-out]").hidden = false;
}

function render(me) {
  $("[data-loading]").hidden = true;
  $("[data-signed-in]").hidden = false;
  $("[data-greeting]").replaceChildren(me.name ? tQuoted("ui.home.hello", { name: quoted(me.name) })
    : t("ui.home.hello_anon"));
  if (me.current_community_id) rememberCommunity(me.current_community_id);

  const list = $("[data-communities]");
  const current = me.current_community_id;
  const ordered = [...me.memberships].sort((a, b) => (b.community_id === current) - (a.community_id === current));
  list.replaceChildren(...ordered.map((m) => communityCard(m, m.community_id === current, me)));
  $("[data-no-communities]").hidden = me.memberships.length > 0 || me.pending_joins.length > 0;

  // Street and district staff: the escalated issues of the communities below each region.
  const regions = me.region_admin_of || [];
  $("[data-regions]").hidden = regions.length === 0;
  $("[data-regions]").replaceChildren(...regions.map((region) => {
    const link = fill("tpl-region", { name: tQuoted("inbox.region.link", { name: quoted(region.name) }) });
    link.href = `/regions/${encodeURIComponent(region.id)}/escalations`;
    return link;
  }));

  $("[data-pending-section]").hidden = me.pending_joins.length === 0;
  $("[data-pending]").replaceChildren(
    ...me.pending_joins.map((p) => fill("tpl-pending", { name: p.community_name })),
  );
  showTodo(me.memberships.find((m) => m.community_id === current));
}

let asked = 0; // the latest request for cards: a switch of community outruns an earlier answer

async function showTodo(membership) {
  const section = $("[data-todo]");
  section.hidden = !membership;
  if (!membership) return;
  const mine = ++asked;
  $("[data-todo-community]").textContent = membership.community_name;
  $("[data-todo-loading]").hidden = false;
  $("[data-todo-failed]").hidden = true;
  $("[data-cards]").replaceChildren();
  try {
    const home = await api("GET", communityPath(membership.community_id, "/home"), { keep: true });
    if (mine !== asked) return;
    $("[data-cards]").replaceChildren(...home.cards.map(homeCard));
  } catch (error) {
    if (error instanceof SignedOut) {
      showSignedOut();
      return;
    }
    if (mine === asked) $("[data-todo-failed]").hidden = false;
  } finally {
    if (mine === asked) $("[data-todo-loading]").hidden = true;
  }
}

function homeCard(card) {
  const node = fill("tpl-home-card", { title: card.title, summary: card.summary, empty: card.empty });
  node.dataset.card = card.key;
  const count = $("[data-count]", node);
  count.textContent = count.dataset.text.replace("{count}", String(card.count));
  count.hidden = card.count === 0;
  $('[data-slot="summary"]', node).hidden = !card.summary;
  $("[data-items]", node).replaceChildren(...card.items.map(homeItem));
  $("[data-items]", node).hidden = card.items.length === 0;
  $('[data-slot="empty"]', node).hidden = card.items.length > 0;
  $("[data-actions]", node).replaceChildren(...card.actions.map((action) => {
    const link = document.createElement("a");
    link.className = action.primary ? "btn btn--primary btn--block" : "btn btn--block";
    link.href = safeNext(action.href);
    link.textContent = action.label;
    return link;
  }));
  return node;
}

function homeItem(item) {
  const node = fill("tpl-home-item", {
    title: item.title,
    at: item.at ? `${item.at_label} ${formatDateTime(item.at)}` : "",
  });
  $("a", node).href = safeNext(item.href);
  const note = $("[data-note]", node);
  note.textContent = item.note;
  if (item.tone) note.classList.add(`badge--${item.tone}`);
  note.hidden = !item.note;
  return node;
}

function communityCard(membership, isCurrent, me) {
  const card = fill("tpl-community", {
    name: membership.community_name,
    kind: t(`ui.kind.${membership.community_kind}`),
  });
  roleChips($("[data-roles]", card), membership.roles);
  $("[data-current]", card).hidden = !isCurrent;
  $("[data-open]", card).href = `/c/${encodeURIComponent(membership.community_id)}`;
  const switchButton = $("[data-switch]", card);
  switchButton.hidden = isCurrent;
  switchButton.addEventListener("click", () => switchTo(switchButton, membership, me));
  return card;
}

async function switchTo(button, membership, me) {
  busy(button, true);
  try {
    const result = await submitWrite("PATCH", "/me", { current_community_id: membership.community_id },
      { label: "ui.queue.label.switch_community" });
    rememberCommunity(membership.community_id);
    if (result.status === "sent") {
      render(result.response);
      toast(t("ui.home.switched", { name: membership.community_name }));
    } else {
      render({ ...me, current_community_id: membership.community_id });
      toast(t("ui.queue.saved_offline"));
    }
  } catch (error) {
    busy(button, false);
    showFailure(error);
  }
}
