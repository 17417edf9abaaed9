// 保存海报: the poster of a shared object (an issue, a poll, an invite, and every kind that
// registers a share preview), drawn on the phone. WeChat groups pass pictures more readily than
// links, and many elderly residents save and forward images: the poster carries the title, the
// community, the key facts and the QR code of the short link. What it says comes from the server
// (GET /s/{code}/poster.json, the same registry as the share page), so this module knows no kinds.
// It is shown as an <img> with a data: URL, because WeChat's long-press "save image" works on an
// image it can read itself (not on a canvas, nor reliably on a blob: URL).

import { ApiError, NetworkError } from "./api.js";
import { t } from "./i18n.js";
import { isElder, lang } from "./prefs.js";
import { busy, errorMessage, formatDateTime, toast } from "./ui.js";

export const WIDTH = 750;
export const HEIGHT = 1334;
// app/sharing/service.py qr_png: 10 px a module, so the code can be drawn at a whole number of
// pixels a module (sharp edges scan best).
const QR_MODULE_PX = 10;
// Fonts phones have: iOS (PingFang), Android (Noto / Source Han), Windows WeChat (YaHei), Linux.
const FONTS = '"PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", '
  + '"WenQuanYi Micro Hei", "Heiti SC", sans-serif';
const WECHAT = /MicroMessenger/i;

/** What the poster of short link `code` shows, in the page's language. */
export async function loadPoster(code) {
  let response;
  try {
    response = await fetch(`/s/${encodeURIComponent(code)}/poster.json`, {
      headers: { Accept: "application/json", "Accept-Language": lang() }, credentials: "same-origin",
    });
  } catch (error) {
    throw new NetworkError(error.message);
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
  return response.json();
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`image ${src} did not load`));
    image.src = src;
  });
}

function palette(elder) {
  const css = getComputedStyle(document.documentElement);
  const token = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return {
    primary: token("--c-primary", "#17784a"),
    strong: token("--c-primary-strong", "#0f5c36"),
    soft: token("--c-primary-soft", "#e6f3ec"),
    text: token("--c-text", "#1b2420"),
    muted: elder ? token("--c-text", "#1b2420") : token("--c-muted", "#57625d"),
    border: token("--c-border", "#d9e0dc"),
    page: token("--c-bg", "#f3f5f4"),
  };
}

// Words of Latin script (and numbers) stay whole; Chinese may break after any character.
const TOKENS = /[\p{Script=Latin}\p{N}'’.,:;!?%&@()/+-]+[ \t]*|\s+|./gsu;

/** `text` in lines no wider than `width`, at most `maxLines`, the last cut with an ellipsis. */
function wrap(ctx, text, width, maxLines) {
  const lines = [];
  let line = "";
  const fits = (s) => ctx.measureText(s.trimEnd()).width <= width;
  for (const token of String(text).replace(/\s+/g, " ").trim().match(TOKENS) || []) {
    if (fits(line + token)) {
      line += token;
      continue;
    }
    if (line.trim()) lines.push(line.trimEnd());
    line = token.trimStart();
    while (line && !fits(line)) {  // one word wider than the line: cut it
      const chars = Array.from(line);
      let n = chars.length - 1;
      while (n > 1 && !fits(chars.slice(0, n).join(""))) n -= 1;
      lines.push(chars.slice(0, n).join(""));
      line = chars.slice(n).join("");
    }
  }
  if (line.trim()) lines.push(line.trimEnd());
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, Math.max(0, maxLines));
  if (!kept.length) return kept;
  let last = Array.from(kept[kept.length - 1]);
  while (last.length && !fits(`${last.join("")}…`)) last = last.slice(0, -1);
  kept[kept.length - 1] = `${last.join("").trimEnd()}…`;
  return kept;
}

/** Like wrap, in as many lines but as even as they come (no lone character on the last line). */
function balanced(ctx, text, width, maxLines) {
  const lines = wrap(ctx, text, width, maxLines);
  if (lines.length < 2 || lines[lines.length - 1].endsWith("…")) return lines;
  let [low, high] = [width / lines.length, width];
  while (high - low > 4) {
    const mid = (low + high) / 2;
    if (wrap(ctx, text, mid, lines.length + 1).length > lines.length) low = mid;
    else high = mid;
  }
  return wrap(ctx, text, high, maxLines);
}

function font(size, weight = 400) {
  return `${weight} ${size}px ${FONTS}`;
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

/**
 * Draw the poster of `poster` (an answer of loadPoster) on a new 750×1334 canvas. Elder mode
 * draws larger type in stronger colours; the QR code keeps its size.
 */
export async function drawPoster(poster, { elder = isElder() } = {}) {
  const qr = await loadImage(new URL(poster.qr_png_url, window.location.origin).pathname);
  const canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const ctx = canvas.getContext("2d");
  const c = palette(elder);
  const k = elder ? 1.2 : 1;
  ctx.textBaseline = "alphabetic";

  // The page and a band of the app's colour with the community's name.
  ctx.fillStyle = c.page;
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  ctx.fillStyle = c.primary;
  ctx.fillRect(0, 0, WIDTH, 300);
  ctx.fillStyle = "rgba(255, 255, 255, 0.08)";
  ctx.beginPath();
  ctx.arc(WIDTH - 40, 40, 190, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = "rgba(255, 255, 255, 0.88)";
  ctx.font = font(Math.round(26 * k));
  ctx.fillText(wrap(ctx, `${t("ui.app.name")} · ${t("ui.poster.tagline")}`, 670, 1)[0] || "", 40, 72);
  ctx.fillStyle = "#fff";
  ctx.font = font(Math.round(48 * k), 700);
  ctx.fillText(wrap(ctx, poster.community_name || t("ui.app.name"), 670, 1)[0] || "", 40, 150);

  // The card: title, facts, and at its foot the QR code with what scanning it does.
  const card = { x: 40, y: 200, w: WIDTH - 80, h: HEIGHT - 200 - 96 };
  ctx.save();
  ctx.shadowColor = "rgba(0, 0, 0, 0.12)";
  ctx.shadowBlur = 24;
  ctx.shadowOffsetY = 6;
  ctx.fillStyle = "#fff";
  roundRect(ctx, card.x, card.y, card.w, card.h, 28);
  ctx.fill();
  ctx.restore();

  const pad = 48;
  const left = card.x + pad;
  const width = card.w - 2 * pad;
  const center = WIDTH / 2;
  const scanSize = Math.round(30 * k);
  const actionSize = Math.round(32 * k);
  // The foot of the card, from the bottom up: the link as text, what scanning does, the QR code.
  const urlY = card.y + card.h - 40;
  const actionY = urlY - 44;
  const scanY = actionY - Math.round(actionSize * 1.45);
  const qrBottom = scanY - scanSize - 24;

  // Lay the text out first: the QR code gives up some size (340 to 220 px) for the facts to fit.
  const titleSize = Math.round(52 * k);
  ctx.font = font(titleSize, 700);
  const title = balanced(ctx, poster.title, width, 3);
  const factsTop = card.y + pad + title.length * titleSize * 1.3 + 24 + 6 + 32;
  const labelSize = Math.round(28 * k);
  const valueSize = Math.round(34 * k);
  const valueLine = Math.round(valueSize * 1.4);
  ctx.font = font(labelSize);
  const labelWidth = Math.min(220, Math.max(112, ...poster.facts.map((f) => ctx.measureText(f.label).width)));
  const valueLeft = left + labelWidth + 24;
  ctx.font = font(valueSize, 600);
  const values = poster.facts.map((f) => wrap(ctx, f.at ? formatDateTime(f.at) : f.value, left + width - valueLeft, 2));
  const factsHeight = values.reduce((sum, lines) => sum + lines.length * valueLine + 20, 0);
  const qrSize = Math.max(220, Math.min(340, qrBottom - 64 - factsTop - factsHeight));
  const qrTop = qrBottom - qrSize;
  const textBottom = qrTop - 56;

  let y = card.y + pad;
  ctx.fillStyle = c.text;
  ctx.font = font(titleSize, 700);
  for (const line of title) {
    y += titleSize * 1.3;
    ctx.fillText(line, left, y - titleSize * 0.3);
  }
  y += 24;
  ctx.fillStyle = c.primary;
  ctx.fillRect(left, y, 64, 6);
  y = factsTop;

  poster.facts.forEach((fact, n) => {
    const room = Math.floor((textBottom - y) / valueLine);
    if (room < 1) return;  // a long title in elder type: the facts that fit, and the code always
    let lines = values[n];
    if (lines.length > room) {
      ctx.font = font(valueSize, 600);
      lines = wrap(ctx, fact.at ? formatDateTime(fact.at) : fact.value, left + width - valueLeft, room);
    }
    ctx.fillStyle = c.muted;
    ctx.font = font(labelSize);
    ctx.fillText(wrap(ctx, fact.label, labelWidth, 1)[0] || "", left, y + valueSize);
    ctx.fillStyle = c.text;
    ctx.font = font(valueSize, 600);
    lines.forEach((line, i) => ctx.fillText(line, valueLeft, y + valueSize + i * valueLine));
    y += lines.length * valueLine + 20;
  });

  ctx.fillStyle = c.border;
  ctx.fillRect(left, qrTop - 32, width, 2);
  const cells = qr.naturalWidth / QR_MODULE_PX;
  const drawn = Number.isInteger(cells) && cells > 0 ? Math.floor(qrSize / cells) * cells : qrSize;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(qr, center - drawn / 2, qrTop + (qrSize - drawn) / 2, drawn, drawn);
  ctx.textAlign = "center";
  ctx.fillStyle = c.text;
  ctx.font = font(scanSize, 700);
  ctx.fillText(wrap(ctx, t("ui.poster.scan"), width, 1)[0] || "", center, scanY);
  ctx.fillStyle = c.strong;
  ctx.font = font(actionSize, 700);
  ctx.fillText(wrap(ctx, `${poster.action_label} →`, width, 1)[0] || "", center, actionY);
  ctx.fillStyle = c.muted;
  ctx.font = font(20);  // the link itself, for whoever cannot scan
  ctx.fillText(wrap(ctx, poster.url.replace(/^https?:\/\//, ""), width, 1)[0] || "", center, urlY);

  // Below the card, what the app is for.
  const footSize = Math.round(22 * k);
  ctx.fillStyle = c.muted;
  ctx.font = font(footSize);
  const foot = balanced(ctx, t("ui.poster.footer"), WIDTH - 80, 2);
  foot.forEach((line, i) => {
    ctx.fillText(line, center, HEIGHT - 30 - (foot.length - 1 - i) * Math.round(footSize * 1.35));
  });
  ctx.textAlign = "start";
  return canvas;
}

function posterView(poster, canvas, code) {
  const figure = document.createElement("figure");
  figure.className = "poster";
  const image = document.createElement("img");
  image.className = "poster__image";
  image.src = canvas.toDataURL("image/png");
  image.width = WIDTH;
  image.height = HEIGHT;
  image.alt = t("ui.poster.alt", { title: poster.title });
  image.dataset.posterImage = "";
  const hint = document.createElement("figcaption");
  hint.className = "poster__hint";
  const wechat = WECHAT.test(navigator.userAgent);
  hint.textContent = t(wechat ? "ui.poster.hint_wechat" : "ui.poster.hint");
  figure.append(image, hint);
  if (wechat) return figure;  // WeChat's browser ignores downloads: long-press is the way

  const actions = document.createElement("div");
  actions.className = "card__actions";
  const name = `wugong-${code}.png`;
  if ("download" in HTMLAnchorElement.prototype) {
    const save = document.createElement("a");
    save.className = "btn btn--small";
    save.href = image.src;
    save.download = name;
    save.textContent = t("ui.poster.download");
    save.dataset.posterDownload = "";
    actions.append(save);
  }
  if (navigator.canShare && window.File) {
    canvas.toBlob((blob) => {
      const file = blob && new File([blob], name, { type: "image/png" });
      if (!file || !navigator.canShare({ files: [file] })) return;
      const send = document.createElement("button");
      send.className = "btn btn--small";
      send.type = "button";
      send.textContent = t("ui.poster.send");
      send.addEventListener("click", () => navigator.share({ files: [file], title: poster.title }).catch(() => {}));
      actions.append(send);
    }, "image/png");
  }
  figure.append(actions);
  return figure;
}

/** Make the poster of short link `code` and show it in `slot`; `button` is busy meanwhile. */
export async function showPoster(button, slot, code) {
  busy(button, true);
  try {
    const poster = await loadPoster(code);
    const canvas = await drawPoster(poster);
    slot.replaceChildren(posterView(poster, canvas, code));
    slot.hidden = false;
    slot.scrollIntoView({ block: "nearest" });
  } catch (error) {
    toast(error instanceof ApiError || error instanceof NetworkError ? errorMessage(error) : t("ui.poster.failed"),
      "error");
  } finally {
    busy(button, false);
  }
}
