// Reading a QR code with the phone's camera, where the browser can (BarcodeDetector: Chrome and
// WebView on Android). Elsewhere — WeChat on iOS, older phones — the page offers no scan button:
// typing the code always works, and WeChat's own 扫一扫 opens a check-in QR's link directly.

import { $, fill } from "./ui.js";

export function canScan() {
  return typeof window.BarcodeDetector === "function" && Boolean(navigator.mediaDevices
    && navigator.mediaDevices.getUserMedia);
}

/**
 * Show the camera in `slot` (from <template id="tpl-scanner">) until a QR code is read or the
 * person stops; resolves with the text read, or null when stopped or the camera is refused.
 */
export async function scanInto(slot) {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch {
    return null;
  }
  const view = fill("tpl-scanner");
  slot.replaceChildren(view);
  const video = $("[data-video]", view);
  video.srcObject = stream;
  let stopped = false;
  const stop = () => {
    stopped = true;
    for (const track of stream.getTracks()) track.stop();
    view.remove();
  };
  $("[data-stop]", view).addEventListener("click", stop);
  try {
    await video.play();
  } catch {
    stop();
    return null;
  }
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  while (!stopped) {
    try {
      const found = await detector.detect(video);
      if (found.length) {
        const text = found[0].rawValue;
        stop();
        return text;
      }
    } catch {
      // A frame not ready yet: try the next one.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

/**
 * The code in what a QR said: a link of ours carries it as ?checkin= or ?code= (or as the last
 * part of its path); plain text is the code itself.
 */
export function codeFrom(text) {
  const value = (text || "").trim();
  try {
    const url = new URL(value);
    for (const name of ["checkin", "code", "c"]) {
      const found = url.searchParams.get(name);
      if (found) return found.trim();
    }
    return decodeURIComponent(url.pathname.split("/").filter(Boolean).pop() || "");
  } catch {
    return value;
  }
}
