// /join/{code}: the invite landing. The server already shows the community and whether the
// invite can be used; here the person signs in (inline) and asks to join. A phone on the
// household roster becomes a member at once; anyone else waits for the committee.

import { api, isSignedIn, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { start } from "../shell.js";
import { mountSignIn } from "../signin.js";
import { $, busy, clearErrors, fieldError, showErrors, showFailure } from "../ui.js";

const page = document.body.dataset;
const communityUrl = () => `/c/${encodeURIComponent(page.communityId)}`;

start(() => {
  if (page.usable !== "1") return;
  const form = $("[data-join-form]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    join(form);
  });
  if (isSignedIn()) showJoinForm();
  else showSignIn();
});

function showSignIn() {
  $("[data-loading]").hidden = true;
  const box = $("[data-join-signin]");
  box.hidden = false;
  if (!box.dataset.mounted) {
    box.dataset.mounted = "1";
    mountSignIn($("[data-signin]", box), showJoinForm);
  }
}

async function showJoinForm() {
  $("[data-join-signin]").hidden = true;
  $("[data-loading]").hidden = false;
  let me;
  try {
    me = await api("GET", "/me");
  } catch (error) {
    if (error instanceof SignedOut) {
      showSignIn();
      return;
    }
    showFailure(error);
    return;
  }
  $("[data-loading]").hidden = true;
  if (me.memberships.some((m) => m.community_id === page.communityId && m.via === "member")) {
    window.location.replace(communityUrl());
    return;
  }
  if (me.pending_joins.some((p) => p.community_id === page.communityId)) {
    showPending();
    return;
  }
  const form = $("[data-join-form]");
  if (!form.elements.name.value) form.elements.name.value = me.name || "";
  form.hidden = false;
  (form.elements.name.value ? form.elements.room : form.elements.name).focus();
}

async function join(form) {
  clearErrors(form);
  const name = form.elements.name.value.trim();
  const room = form.elements.room.value.trim();
  if (!name) {
    fieldError(form, "name", t("ui.join.name_required"));
    return;
  }
  const submit = $('[type="submit"]', form);
  busy(submit, true);
  try {
    const result = await api("POST", "/join", { body: { code: page.code, name, room } });
    if (result.status === "member") {
      window.location.assign(communityUrl());
      return;
    }
    form.hidden = true;
    showPending();
  } catch (error) {
    if (error instanceof SignedOut) {
      form.hidden = true;
      showSignIn();
      return;
    }
    showErrors(form, error);
  } finally {
    busy(submit, false);
  }
}

function showPending() {
  $("[data-join-pending]").hidden = false;
}
