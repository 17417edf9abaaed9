// /c/{cid}/issues/new: report a problem — title, category, description, photos (camera or
// album, uploaded one by one first), where (GPS, building, words), and whether to hide my
// name. Staff also choose the source and staff-only. Without network the report is kept on
// the phone and sent once (one Idempotency-Key) when the network returns.

import { api, ApiError } from "../api.js";
import { t } from "../i18n.js";
import { issuePath, photoPicker } from "../issues.js";
import { submitWrite } from "../queue.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, can, cidOfPage, clearErrors, communityPath, fieldError, pageData, showErrors,
} from "../ui.js";

const cid = cidOfPage();
const { permissions } = pageData();
let position = null;

start(async () => {
  rememberCommunity(cid);
  const form = $("[data-report-form]");
  const [community, categories, buildings] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", communityPath(cid, "/categories"), { keep: true }),
    api("GET", communityPath(cid, "/buildings"), { keep: true }),
  ]);
  for (const c of categories) form.elements.category_id.append(new Option(c.name, c.id));
  for (const b of buildings) form.elements.building_id.append(new Option(b.name, b.id));
  const staff = can(permissions, "issues.report_as_staff", community.my_roles);
  $("[data-staff]", form).hidden = !staff;
  const source = new URLSearchParams(window.location.search).get("source");
  if (staff && source && [...form.elements.source.options].some((o) => o.value === source)) {
    form.elements.source.value = source;
  }
  const picker = photoPicker($("[data-photo-slot]", form), cid);
  $("[data-locate]", form).addEventListener("click", locate);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(form, picker, staff);
  });
  $("[data-loading]").hidden = true;
  form.hidden = false;
});

function locate() {
  const state = $("[data-gps-state]");
  if (!navigator.geolocation) {
    state.textContent = t("ui.issue_new.gps_unavailable");
    return;
  }
  state.textContent = t("ui.issue_new.gps_finding");
  navigator.geolocation.getCurrentPosition(
    (found) => {
      position = { lat: Number(found.coords.latitude.toFixed(6)), lng: Number(found.coords.longitude.toFixed(6)) };
      state.textContent = t("ui.issue_new.gps_found", { lat: position.lat, lng: position.lng });
    },
    () => {
      position = null;
      state.textContent = t("ui.issue_new.gps_failed");
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

async function send(form, picker, staff) {
  clearErrors(form);
  const value = (name) => form.elements[name].value.trim();
  if (!value("title")) {
    fieldError(form, "title", t("ui.issue_new.title_missing"));
    return;
  }
  if (!value("category_id")) {
    fieldError(form, "category_id", t("ui.issue_new.category_missing"));
    return;
  }
  if (picker.uploading()) {
    fieldError(form, "photo_ids", t("ui.photos.wait"));
    return;
  }
  const body = {
    title: value("title"), description: value("description"), category_id: value("category_id"),
    location_text: value("location_text"), photo_ids: picker.ids(),
    hide_reporter: form.elements.hide_reporter.checked,
  };
  if (value("building_id")) body.building_id = value("building_id");
  if (position) Object.assign(body, position);
  if (staff) {
    body.source = value("source");
    body.staff_only = form.elements.staff_only.checked;
  }
  const submit = $('[type="submit"]', form);
  busy(submit, true);
  try {
    const result = await submitWrite("POST", communityPath(cid, "/issues"), body, { label: "ui.issue_new.queue_label" });
    if (result.status === "sent") {
      window.location.assign(issuePath(cid, result.response.id));
      return;
    }
    form.hidden = true;
    $("[data-queued-done]").hidden = false;
    window.scrollTo(0, 0);
  } catch (error) {
    showErrors(form, error);
    if (error instanceof ApiError) busy(submit, false);
  } finally {
    if (!form.hidden) busy(submit, false);
  }
}
