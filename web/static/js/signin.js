// The sign-in card (templates/_signin.html): phone + SMS code, or staff username + password.
// Both end in POST /auth/token; the tokens are kept and `onSignedIn` runs.

import { api, saveTokens } from "./api.js";
import { t } from "./i18n.js";
import { $, $$, busy, clearErrors, fieldError, fieldErrors, showErrors } from "./ui.js";

const PHONE = /^1[3-9]\d{9}$/;
const CODE = /^\d{6}$/;
const RESEND_SECONDS = 60;

function normalPhone(value) {
  const digits = value.replace(/[\s-]/g, "");
  return digits.startsWith("+86") ? digits.slice(3) : digits;
}

function maskPhone(phone) {
  return `${phone.slice(0, 3)}****${phone.slice(-4)}`;
}

export function mountSignIn(root, onSignedIn) {
  wireTabs(root);
  wirePhone($('[data-panel="phone"] form', root), onSignedIn);
  wireStaff($('[data-panel="staff"] form', root), onSignedIn);
}

function wireTabs(root) {
  const tabs = $$('[role="tab"]', root);
  const select = (chosen) => {
    for (const tab of tabs) {
      const on = tab === chosen;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      $(`[data-panel="${tab.dataset.tab}"]`, root).hidden = !on;
    }
  };
  for (const tab of tabs) tab.addEventListener("click", () => select(tab));
}

function wirePhone(form, onSignedIn) {
  const sendButton = $("[data-send-code]", form);
  const sentNotice = $("[data-code-sent]", form);
  let timer = null;

  const countdown = (seconds) => {
    clearInterval(timer);
    let left = seconds;
    const tick = () => {
      if (left <= 0) {
        clearInterval(timer);
        sendButton.disabled = false;
        sendButton.textContent = t("ui.signin.resend");
        return;
      }
      sendButton.disabled = true;
      sendButton.textContent = t("ui.signin.resend_in", { seconds: left });
      left -= 1;
    };
    tick();
    timer = setInterval(tick, 1000);
  };

  const phone = () => normalPhone(form.elements.phone.value);

  sendButton.addEventListener("click", async () => {
    clearErrors(form);
    if (!PHONE.test(phone())) {
      fieldError(form, "phone", t("ui.signin.phone_invalid"));
      return;
    }
    busy(sendButton, true);
    try {
      await api("POST", "/auth/otp", { body: { phone: phone() }, auth: false });
      sentNotice.textContent = t("ui.signin.code_sent", { phone: maskPhone(phone()) });
      sentNotice.hidden = false;
      busy(sendButton, false);
      countdown(RESEND_SECONDS);
      form.elements.code.focus();
    } catch (error) {
      busy(sendButton, false);
      showErrors(form, error);
      if (error.retryAfter && error.retryAfter <= 600) countdown(error.retryAfter);
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const code = form.elements.code.value.trim();
    if (fieldErrors(form, [
      ...(PHONE.test(phone()) ? [] : [["phone", t("ui.signin.phone_invalid")]]),
      ...(CODE.test(code) ? [] : [["code", t("ui.signin.code_invalid")]]),
    ])) return;
    const submit = $('[type="submit"]', form);
    busy(submit, true);
    try {
      saveTokens(await api("POST", "/auth/token", { body: { phone: phone(), code }, auth: false }));
      clearInterval(timer);
      await onSignedIn();
    } catch (error) {
      showErrors(form, error);
    } finally {
      busy(submit, false);
    }
  });
}

function wireStaff(form, onSignedIn) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (fieldErrors(form, [
      ...(username ? [] : [["username", t("ui.signin.username_required")]]),
      ...(password ? [] : [["password", t("ui.signin.password_required")]]),
    ])) return;
    const submit = $('[type="submit"]', form);
    busy(submit, true);
    try {
      saveTokens(await api("POST", "/auth/token", { body: { username, password }, auth: false }));
      await onSignedIn();
    } catch (error) {
      showErrors(form, error);
    } finally {
      busy(submit, false);
    }
  });
}
