// /c/{cid}: the community's name, place, numbers and my roles; what residents will do here
// (coming soon), and the committee's tools for those who hold them.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, $$, can, cidOfPage, communityPath, joinNodes, pageData, quoted, roleChips, setSlots, showFailure,
} from "../ui.js";

start(async () => {
  const cid = cidOfPage();
  let community;
  try {
    community = await api("GET", communityPath(cid), { keep: true });
  } catch (error) {
    showFailure(error);
    return;
  }
  rememberCommunity(cid);
  render(community);
});

function render(community) {
  $("[data-loading]").hidden = true;
  const root = $("[data-community]");
  document.title = `${community.name} · ${t("ui.app.name")}`;
  $("[data-topbar-title]").replaceChildren(quoted(community.name));
  setSlots(root, {
    name: community.name,
    region: joinNodes([...community.region_path.map((r) => quoted(r.name)), t(`ui.kind.${community.kind}`)], " › "),
    address: community.address,
  });
  roleChips($("[data-roles]", root), community.my_roles);
  for (const [key, value] of Object.entries(community.stats)) {
    const cell = $(`[data-stat="${key}"]`, root);
    if (cell) cell.textContent = String(value);
  }

  const { permissions } = pageData();
  let anyAdmin = false;
  for (const link of $$("[data-permission]", root)) {
    link.hidden = !can(permissions, link.dataset.permission, community.my_roles);
    anyAdmin = anyAdmin || !link.hidden;
  }
  $("[data-admin]", root).hidden = !anyAdmin;
  const pending = $("[data-pending-count]", root);
  pending.textContent = t("ui.community.admin.pending", { count: community.stats.pending_joins });
  pending.hidden = community.stats.pending_joins === 0;
  root.hidden = false;
}
