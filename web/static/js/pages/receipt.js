// /receipts and /receipts/{receipt}: the public receipt check 回执查验. Anyone, signed in or not,
// enters a receipt and sees whether that ballot is in its poll's chain, whether it still counts
// (or a later vote replaced it) and where it sits in the chain — never what it chose: a receipt that
// showed the choice would be proof for whoever buys or forces votes.

import { api, ApiError } from "../api.js";
import { t } from "../i18n.js";
import { start } from "../shell.js";
import { $, busy, capitalised, clearErrors, errorMessage, fieldError, pageData, setSlots } from "../ui.js";

const SHAPE = /^[0-9A-Za-z-]{4,40}$/;

start(async () => {
  const form = $("[data-receipt-form]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    check(form);
  });
  const { receipt } = pageData();
  if (receipt) await check(form);
});

async function check(form) {
  clearErrors(form);
  const receipt = form.elements.receipt.value.trim().replace(/\s+/g, "");
  if (!SHAPE.test(receipt)) {
    fieldError(form, "receipt", t("ui.receipt.malformed"));
    return;
  }
  const path = `/receipts/${encodeURIComponent(receipt)}`;
  if (window.location.pathname !== path) history.replaceState(null, "", path);
  const button = $('[type="submit"]', form);
  busy(button, true);
  $("[data-loading]").hidden = false;
  try {
    show(await api("GET", path, { auth: false }));
  } catch (error) {
    const box = $("[data-form-error]", form);
    box.textContent = error instanceof ApiError && error.status === 422 ? t("ui.receipt.malformed") : errorMessage(error);
  } finally {
    $("[data-loading]").hidden = true;
    busy(button, false);
  }
}

function show(found) {
  const box = $("[data-result]");
  const verdict = $("[data-verdict]", box);
  let state = "missing";
  if (found.found) state = found.counted ? "counted" : "replaced";
  box.dataset.state = state;
  verdict.textContent = t(`ui.receipt.verdict.${state}`, { receipt: found.receipt });
  $("[data-found-details]", box).hidden = !found.found;
  $("[data-found-note]", box).hidden = !found.found;
  $("[data-found-hashes]", box).hidden = !found.found;
  if (found.found) {
    setSlots(box, {
      poll: found.poll_title,
      community: found.community_name || "",
      status: capitalised(t(`ui.poll.status.${found.status}`)),
      seq: t("ui.receipt.seq_of", { seq: found.seq, total: found.chain_seq }),
      hash: found.hash,
      head: found.chain_head,
    });
  }
  box.hidden = false;
}
