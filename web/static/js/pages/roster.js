// /c/{cid}/admin/roster: upload the household roster (CSV or XLSX). The file is imported
// whole or not at all; when it is refused, every bad row is listed with its line number.

import { api, ApiError } from "../api.js";
import { t } from "../i18n.js";
import { start } from "../shell.js";
import { $, busy, cidOfPage, clearErrors, communityPath, fieldError, setSlots, showErrors } from "../ui.js";

const cid = cidOfPage();

start(() => {
  const form = $("[data-roster-form]");
  form.elements.file.addEventListener("change", () => showFileName(form));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    upload(form);
  });
});

function showFileName(form) {
  const file = form.elements.file.files[0];
  $("[data-file-name]", form).textContent = file ? file.name : t("ui.roster.no_file");
}

async function upload(form) {
  clearErrors(form);
  const result = $("[data-roster-result]");
  const problems = $("[data-roster-errors]");
  result.hidden = true;
  problems.hidden = true;
  const file = form.elements.file.files[0];
  if (!file) {
    fieldError(form, "file", t("ui.roster.file_required"));
    return;
  }
  const body = new FormData();
  body.append("file", file, file.name);
  const submit = $('[type="submit"]', form);
  busy(submit, true);
  try {
    const counts = await api("POST", communityPath(cid, "/households/import"), { form: body });
    setSlots(result, counts);
    result.hidden = false;
    form.reset();
    showFileName(form);
  } catch (error) {
    const rows = error instanceof ApiError ? error.problem.errors || [] : [];
    if (rows.length === 0) {
      showErrors(form, error);
      return;
    }
    showRowErrors(problems, error.message, rows);
  } finally {
    busy(submit, false);
  }
}

function showRowErrors(box, detail, rows) {
  setSlots(box, { detail });
  const lines = [...rows].sort((a, b) => (a.line || 0) - (b.line || 0)).map((row) => {
    const item = document.createElement("li");
    item.textContent = row.line ? t("ui.roster.row_error", { line: row.line, msg: row.msg }) : row.msg;
    return item;
  });
  $("[data-lines]", box).replaceChildren(...lines);
  box.hidden = false;
  box.scrollIntoView({ block: "start" });
}
