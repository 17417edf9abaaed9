// The offline write queue. A write is stored before it is sent and carries one
// Idempotency-Key for life, so it is applied once however many times the phone retries
// (after a crash, a lost answer, or coming back online). Works without a service worker:
// replays run on page load and on the `online` event.
//
//   const result = await submitWrite("POST", "/communities/1/issues", body, { label: labelKey });
//   result.status === "sent"   → result.response is the server's answer
//   result.status === "queued" → it will be sent when the network returns
//
// An item is {id, method, url, body, idempotencyKey, status: queued|sending|sent|failed,
// createdAt, sentAt, attempts, error, label, personId, attachments, resultId}. A write goes out only under
// the person who made it: after a sign-out, another person on the same phone does not send it.
//
// Attachments (photos taken offline) ride along as Blobs, so they need IndexedDB:
//
//   await submitWrite("POST", url, body, { attachments: { url: uploadsUrl, field: "photo_ids", files } });
//
// Each file is uploaded first (multipart, with its own Idempotency-Key kept for life, so a
// retry never stores it twice); the upload ids are appended to body[field] and the write goes
// out once. Where files cannot be kept (no IndexedDB) submitWrite throws FilesNeedStorage;
// canKeepFiles() says so beforehand.

import { api, ApiError, currentPersonId, NetworkError, SignedOut } from "./api.js";

const DB_NAME = "wugong";
const STORE = "writes";
const FALLBACK_KEY = "wg_writes";
const MAX_ATTEMPTS = 8;
const KEEP_SENT = 20;
const SENT_TTL_MS = 24 * 60 * 60 * 1000;

const inFlight = new Set();
const listeners = new Set();
let backendPromise = null;
let replaying = null;

// ---- storage: IndexedDB, or localStorage where IndexedDB is missing or blocked ----------

function idbRequest(db, mode, work) {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

function idbBackend(db) {
  return {
    files: true,
    all: () => idbRequest(db, "readonly", (store) => store.getAll()),
    put: (item) => idbRequest(db, "readwrite", (store) => store.put(item)),
    remove: (id) => idbRequest(db, "readwrite", (store) => store.delete(id)),
  };
}

const localBackend = {
  files: false,
  async all() {
    try {
      return JSON.parse(localStorage.getItem(FALLBACK_KEY) || "[]");
    } catch {
      return [];
    }
  },
  async put(item) {
    const items = (await localBackend.all()).filter((other) => other.id !== item.id);
    items.push(item);
    localStorage.setItem(FALLBACK_KEY, JSON.stringify(items));
  },
  async remove(id) {
    const items = (await localBackend.all()).filter((other) => other.id !== id);
    localStorage.setItem(FALLBACK_KEY, JSON.stringify(items));
  },
};

function backend() {
  if (!backendPromise) {
    backendPromise = new Promise((resolve) => {
      let request;
      try {
        request = indexedDB.open(DB_NAME, 1);
      } catch {
        resolve(localBackend);
        return;
      }
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
      request.onsuccess = () => resolve(idbBackend(request.result));
      request.onerror = () => resolve(localBackend);
      request.onblocked = () => resolve(localBackend);
    });
  }
  return backendPromise;
}

async function save(item) {
  await (await backend()).put(item);
}

/** Whether this phone can keep files (photos) in the queue: IndexedDB works here. */
export async function canKeepFiles() {
  return (await backend()).files;
}

/** Files were given to a write but this phone can keep only text (no IndexedDB). */
export class FilesNeedStorage extends Error {
  constructor() {
    super("files need IndexedDB");
    this.name = "FilesNeedStorage";
  }
}

// ---- sending ----------------------------------------------------------------------------

export function newId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes); // randomUUID needs a secure context; this does not
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function changed() {
  for (const listener of listeners) listener();
}

function retryable(error) {
  if (error instanceof NetworkError || error instanceof SignedOut) return true;
  return error instanceof ApiError
    && (error.status >= 500 || error.status === 429 || error.code === "idempotency_in_progress");
}

/** Upload the item's files not yet uploaded, remembering each id as soon as the server has it. */
async function uploadAttachments(item) {
  const attached = item.attachments;
  for (const file of attached.files) {
    if (file.uploadId) continue;
    const form = new FormData();
    form.append("file", file.blob, file.name || "photo.jpg");
    const saved = await api("POST", attached.url, { form, idempotencyKey: file.idempotencyKey });
    file.uploadId = saved.id;
    await save(item);
  }
  const body = { ...(item.body || {}) };
  body[attached.field] = [...(body[attached.field] || []), ...attached.files.map((file) => file.uploadId)];
  return body;
}

async function send(item) {
  inFlight.add(item.id);
  item.status = "sending";
  item.attempts += 1;
  await save(item);
  changed();
  try {
    const body = item.attachments ? await uploadAttachments(item) : item.body;
    const response = await api(item.method, item.url, {
      body: body === null ? undefined : body,
      idempotencyKey: item.idempotencyKey,
    });
    Object.assign(item, { status: "sent", sentAt: new Date().toISOString(), error: "" });
    if (response && typeof response === "object" && response.id) item.resultId = String(response.id);
    // A ballot's answer is its receipt: the phone must keep it even when it went out later.
    if (item.keepResponse) item.response = response;
    if (item.attachments) {
      // The server has the photos now: free the phone's storage, keep the count for the list.
      for (const file of item.attachments.files) file.blob = null;
    }
    return { status: "sent", response };
  } catch (error) {
    const again = retryable(error) && item.attempts < MAX_ATTEMPTS;
    Object.assign(item, { status: again ? "queued" : "failed", error: error.message });
    return { status: item.status, error };
  } finally {
    await save(item);
    inFlight.delete(item.id);
    changed();
  }
}

/**
 * Send a write now, or keep it for later when the phone is offline or the network fails.
 * A refusal by the server (4xx) is thrown as ApiError and nothing is kept; a SignedOut is
 * thrown after the write is kept, so it goes out once the person signs in again.
 * Options: `label` (a catalogue key for the list in settings), `id` (the item's id, to follow
 * it with findWrite/onQueueChange), `attachments` ({url, field, files: [File|Blob]}),
 * `keepResponse` (keep the server's answer on the item as `response`, e.g. a ballot's receipt).
 */
export async function submitWrite(method, url, body, options = {}) {
  const item = {
    id: options.id || newId(), method, url, body: body === undefined ? null : body, idempotencyKey: newId(),
    status: "queued", createdAt: new Date().toISOString(), sentAt: null, attempts: 0, error: "",
    label: options.label || "", personId: currentPersonId(), attachments: null,
    keepResponse: Boolean(options.keepResponse),
  };
  const files = options.attachments ? Array.from(options.attachments.files || []) : [];
  if (files.length) {
    if (!(await canKeepFiles())) throw new FilesNeedStorage();
    item.attachments = {
      url: options.attachments.url, field: options.attachments.field,
      files: files.map((blob) => ({ blob, name: blob.name || "photo.jpg", idempotencyKey: newId(), uploadId: null })),
    };
  }
  await save(item);
  if (navigator.onLine === false) {
    changed();
    return { status: "queued" };
  }
  const outcome = await send(item);
  if (outcome.status === "sent") return outcome;
  if (outcome.status === "failed") {
    await (await backend()).remove(item.id);
    changed();
    throw outcome.error;
  }
  if (outcome.error instanceof SignedOut) throw outcome.error;
  return { status: "queued" };
}

/** Send what is waiting, oldest first; stop at the first that still cannot go. */
export function replay() {
  if (!replaying) {
    const task = () => replayAll();
    const locked = navigator.locks && navigator.locks.request
      ? navigator.locks.request("wg-queue", task)
      : task();
    replaying = locked.finally(() => {
      replaying = null;
    });
  }
  return replaying;
}

async function replayAll() {
  if (navigator.onLine === false) return;
  const person = currentPersonId();
  const waiting = (await listWrites())
    .filter((item) => (item.status === "queued" || item.status === "sending") && !inFlight.has(item.id))
    .filter((item) => item.personId === person)
    .reverse();
  for (const item of waiting) {
    const outcome = await send(item);
    if (outcome.status === "queued") break;
  }
  await prune();
}

async function prune() {
  const store = await backend();
  const now = Date.now();
  const sent = (await listWrites()).filter((item) => item.status === "sent");
  for (const [index, item] of sent.entries()) {
    if (index >= KEEP_SENT || now - Date.parse(item.sentAt) > SENT_TTL_MS) await store.remove(item.id);
  }
}

// ---- for the UI ---------------------------------------------------------------------------

/** One kept write by id, or null. */
export async function findWrite(id) {
  return (await listWrites()).find((item) => item.id === id) || null;
}

/** Every kept write, newest first. */
export async function listWrites() {
  const items = await (await backend()).all();
  return items.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
}

/** Forget sent and failed writes (the list in settings). */
export async function clearFinished() {
  const store = await backend();
  for (const item of await listWrites()) {
    if (item.status === "sent" || item.status === "failed") await store.remove(item.id);
  }
  changed();
}

/** Call `listener` whenever the queue changes; returns a function that stops it. */
export function onQueueChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Replay now and whenever the network comes back. */
export function startQueue() {
  window.addEventListener("online", () => {
    replay();
  });
  replay();
}
