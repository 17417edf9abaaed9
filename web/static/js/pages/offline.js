// /offline: shown by the service worker when a page cannot be fetched.

import { t } from "../i18n.js";
import { listWrites } from "../queue.js";
import { start } from "../shell.js";
import { $ } from "../ui.js";

start(async () => {
  $("[data-retry]").addEventListener("click", () => window.location.reload());
  const waiting = (await listWrites()).filter((item) => item.status === "queued").length;
  const note = $("[data-offline-queue]");
  note.textContent = t("ui.offline.queued", { count: waiting });
  note.hidden = waiting === 0;
});
