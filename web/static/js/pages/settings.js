// /settings: language, elder mode, who is signed in (and the name others see), and the writes waiting
// to be sent.

import { api, forgetSession, isSignedIn, refreshToken, SignedOut } from "../api.js";
import { t } from "../i18n.js";
import { setElder, setLang } from "../prefs.js";
import { clearFinished, listWrites, onQueueChange, replay, submitWrite } from "../queue.js";
import { start } from "../shell.js";
import {
  $, $$, busy, clearErrors, fieldError, fill, formatDateTime, setSlots, showErrors, showFailure, toast,
} from "../ui.js";

const STATUS_BADGE = { queued: "warning", sending: "info", sent: "success", failed: "danger" };

start(() => {
  for (const radio of $$('input[name="lang"]')) radio.addEventListener("change", () => changeLanguage(radio.value));
  const elder = $("[data-elder]");
  elder.addEventListener("change", () => {
    setElder(elder.checked);
    toast(elder.checked ? t("ui.settings.elder_on") : t("ui.settings.elder_off"));
  });
  $("[data-queue-retry]").addEventListener("click", () => replay());
  $("[data-queue-clear]").addEventListener("click", () => clearFinished());
  onQueueChange(renderQueue);
  renderQueue();
  showAccount().catch(showFailure); // the switches above need not wait for it
});

async function changeLanguage(value) {
  setLang(value);
  if (isSignedIn()) {
    // Kept on the account too, for messages the server sends; queued when offline.
    await submitWrite("PATCH", "/me", { locale: value }, { label: "ui.queue.label.language" }).catch(() => null);
  }
  window.location.reload();
}

async function showAccount() {
  if (!isSignedIn()) {
    $("[data-loading]").hidden = true;
    $("[data-signed-out]").hidden = false;
    return;
  }
  let me;
  try {
    me = await api("GET", "/me", { keep: true });
  } catch (error) {
    if (error instanceof SignedOut) {
      $("[data-loading]").hidden = true;
      $("[data-signed-out]").hidden = false;
      return;
    }
    showFailure(error);
    return;
  }
  $("[data-loading]").hidden = true;
  const box = $("[data-signed-in]");
  setSlots(box, { phone: me.phone || me.username || "" });
  wireName($("[data-name-form]", box), me.name || "");
  box.hidden = false;
  const signOut = $("[data-sign-out]", box);
  signOut.addEventListener("click", async () => {
    busy(signOut, true);
    // Best effort: the server forgets the refresh token; the phone forgets it either way.
    await api("POST", "/auth/logout", { body: { refresh_token: refreshToken() } }).catch(() => null);
    forgetSession();
    window.location.assign("/");
  });
}

/** The name neighbours and staff see, changed here (the server trims it and checks its length). */
function wireName(form, name) {
  const input = form.elements.name;
  input.value = name;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!input.value.trim()) {
      fieldError(form, "name", t("ui.settings.name_missing"));
      return;
    }
    const button = $('[type="submit"]', form);
    busy(button, true);
    try {
      const saved = await api("PATCH", "/me", { body: { name: input.value } });
      input.value = saved.name;
      toast(t("ui.settings.name_saved"));
    } catch (error) {
      showErrors(form, error);
    } finally {
      busy(button, false);
    }
  });
}

async function renderQueue() {
  const items = await listWrites();
  $("[data-queue-empty]").hidden = items.length > 0;
  $("[data-queue-list]").replaceChildren(...items.map((item) => {
    const row = fill("tpl-write", {
      label: item.label ? t(item.label) : `${item.method} ${item.url}`,
      when: formatDateTime(item.sentAt || item.createdAt),
      error: item.status === "failed" ? item.error : "",
    });
    const badge = $("[data-status]", row);
    badge.textContent = t(`ui.queue.status.${item.status}`);
    badge.classList.add(`badge--${STATUS_BADGE[item.status]}`);
    return row;
  }));
}
