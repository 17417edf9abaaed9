// /c/{cid}/issues/new: report a problem — title, category, description, photos (camera or
// album, uploaded one by one first), where (GPS, building, words), and whether to hide my
// name. Staff also choose the source and staff-only. Without network the report is kept on
// the phone and sent once (one Idempotency-Key) when the network returns — with its photos,
// kept as Blobs in the queue where IndexedDB works. While typing, open issues that look the
// same (similar title, or nearby in the same category) are offered for 我也关注 instead.

import { api, ApiError } from "../api.js";
import { t } from "../i18n.js";
import { categoryName, categoryOption, issuePath, photoPicker, statusBadges } from "../issues.js";
import { FilesNeedStorage, findWrite, newId, onQueueChange, submitWrite } from "../queue.js";
import { rememberCommunity, start } from "../shell.js";
import {
  $, busy, can, cidOfPage, clearErrors, communityPath, errorMessage, fieldError, fieldErrors, fill, pageData,
  showErrors, toast, userOption,
} from "../ui.js";

const cid = cidOfPage();
const { permissions } = pageData();
const SIMILAR_SHOWN = 3;
const SIMILAR_DELAY_MS = 400;
let position = null;
let lookForSimilar = () => {};

start(async () => {
  rememberCommunity(cid);
  const form = $("[data-report-form]");
  const [community, categories, buildings] = await Promise.all([
    api("GET", communityPath(cid), { keep: true }),
    api("GET", communityPath(cid, "/categories"), { keep: true }),
    api("GET", communityPath(cid, "/buildings"), { keep: true }),
  ]);
  for (const c of categories) form.elements.category_id.append(categoryOption(c));
  for (const b of buildings) form.elements.building_id.append(userOption(b.name, b.id));
  const staff = can(permissions, "issues.report_as_staff", community.my_roles);
  $("[data-staff]", form).hidden = !staff;
  const source = new URLSearchParams(window.location.search).get("source");
  if (staff && source && [...form.elements.source.options].some((o) => o.value === source)) {
    form.elements.source.value = source;
  }
  const picker = photoPicker($("[data-photo-slot]", form), cid, { keep: true });
  lookForSimilar = similarHint(form);
  form.elements.title.addEventListener("input", lookForSimilar);
  form.elements.category_id.addEventListener("change", lookForSimilar);
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
  const more = $("[data-gps-more]");
  more.hidden = true;
  if (!navigator.geolocation) {
    state.textContent = t("ui.issue_new.gps_unavailable");
    return;
  }
  state.textContent = t("ui.issue_new.gps_finding");
  navigator.geolocation.getCurrentPosition(
    (found) => {
      position = { lat: Number(found.coords.latitude.toFixed(6)), lng: Number(found.coords.longitude.toFixed(6)) };
      state.textContent = t("ui.issue_new.gps_found_plain");
      $("[data-gps-coords]").textContent = t("ui.issue.gps", { lat: position.lat, lng: position.lng });
      more.hidden = false;
      lookForSimilar();
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
  const missing = [["title", "ui.issue_new.title_missing"], ["category_id", "ui.issue_new.category_missing"]]
    .filter(([name]) => !value(name)).map(([name, key]) => [name, t(key)]);
  if (fieldErrors(form, missing)) return;
  const files = picker.files();
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
  const id = newId();
  try {
    const result = await submitWrite("POST", communityPath(cid, "/issues"), body, {
      label: "ui.issue_new.queue_label", id,
      attachments: files.length ? { url: communityPath(cid, "/uploads"), field: "photo_ids", files } : undefined,
    });
    if (result.status === "sent") {
      window.location.assign(issuePath(cid, result.response.id));
      return;
    }
    form.hidden = true;
    $("[data-queued-done]").hidden = false;
    const photos = $("[data-queued-photos]");
    photos.hidden = files.length === 0;
    photos.textContent = t("report.queue.photos", { count: files.length });
    followQueued(id);
    window.scrollTo(0, 0);
  } catch (error) {
    if (error instanceof FilesNeedStorage) {
      fieldError(form, "photo_ids", t("report.photos.no_storage"));
      busy(submit, false);
      return;
    }
    showErrors(form, error);
    if (error instanceof ApiError) busy(submit, false);
  } finally {
    if (!form.hidden) busy(submit, false);
  }
}

/** The queued report's state on the page: queued → sending → sent (or failed, with why). */
function followQueued(id) {
  const state = $("[data-queued-state]");
  const open = $("[data-queued-open]");
  const show = async () => {
    const item = await findWrite(id);
    if (!item) return;
    state.dataset.state = item.status;
    state.textContent = t(`report.queue.state.${item.status}`, { reason: item.error || "" });
    if (item.status === "sent" && item.resultId) {
      open.href = issuePath(cid, item.resultId);
      open.hidden = false;
    }
  };
  onQueueChange(() => {
    show();
  });
  show();
}

// ---- possible duplicates --------------------------------------------------------------------

/** Returns the function to call when the title, category or location changes. */
function similarHint(form) {
  const box = $("[data-similar]", form);
  const list = $("[data-similar-list]", form);
  let timer = 0;
  let generation = 0;
  const hide = () => {
    box.hidden = true;
    list.replaceChildren();
  };
  const look = async () => {
    const mine = ++generation;
    const title = form.elements.title.value.trim();
    const category = form.elements.category_id.value;
    const params = new URLSearchParams();
    if (title.length >= 2) params.set("title", title.slice(0, 100));
    if (position) {
      params.set("lat", String(position.lat));
      params.set("lng", String(position.lng));
      if (category) params.set("category_id", category);
    }
    if ((!params.has("title") && !position) || navigator.onLine === false) {
      hide();
      return;
    }
    let found;
    try {
      found = await api("GET", `${communityPath(cid, "/issues/similar")}?${params}`);
    } catch {
      if (mine === generation) hide(); // quiet: offline or refused, the report still goes ahead
      return;
    }
    if (mine !== generation) return;
    const items = (found.items || []).slice(0, SIMILAR_SHOWN);
    list.replaceChildren(...items.map(similarCard));
    box.hidden = items.length === 0;
  };
  return () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(look, SIMILAR_DELAY_MS);
  };
}

function similarCard(issue) {
  const meta = [categoryName(issue.category), t("report.similar.supports", { count: issue.supports_count })];
  if (issue.distance_m !== null && issue.distance_m !== undefined) {
    meta.push(t("report.similar.distance", { meters: Math.round(issue.distance_m) }));
  }
  const card = fill("tpl-similar-card", { title: issue.title, meta: meta.filter(Boolean).join(" · ") });
  card.dataset.issueId = issue.id;
  $("[data-link]", card).href = issuePath(cid, issue.id);
  $("[data-badges]", card).replaceChildren(...statusBadges(issue));
  const button = $("[data-support]", card);
  button.addEventListener("click", async () => {
    busy(button, true);
    try {
      const state = await api("POST", communityPath(cid, `/issues/${encodeURIComponent(issue.id)}/support`));
      $('[data-slot="meta"]', card).textContent = meta.filter(Boolean)
        .map((part, i) => (i === 1 ? t("report.similar.supports", { count: state.supports_count }) : part))
        .join(" · ");
      busy(button, false);
      button.textContent = t("report.similar.supported");
      button.disabled = true;
      button.dataset.supported = "";
      toast(t("report.similar.thanks"));
    } catch (error) {
      busy(button, false);
      toast(errorMessage(error), "error");
    }
  });
  return card;
}
