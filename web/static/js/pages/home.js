// /: my communities, switching the current one, joins waiting for the committee.

import { api, isSignedIn, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { submitWrite } from "../queue.js";
import { rememberCommunity, start } from "../shell.js";
import { $, busy, fill, roleChips, showFailure, toast } from "../ui.js";

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
  $("[data-greeting]").textContent = me.name ? t("ui.home.hello", { name: me.name }) : t("ui.home.hello_anon");
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
    const link = fill("tpl-region", { name: t("inbox.region.link", { name: region.name }) });
    link.href = `/regions/${encodeURIComponent(region.id)}/escalations`;
    return link;
  }));

  $("[data-pending-section]").hidden = me.pending_joins.length === 0;
  $("[data-pending]").replaceChildren(
    ...me.pending_joins.map((p) => fill("tpl-pending", { name: p.community_name })),
  );
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
