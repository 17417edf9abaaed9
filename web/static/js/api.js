// The JSON API client. The bearer token lives in localStorage; on a 401 the client refreshes
// once and retries. The refresh token rotates on every use and a reused one signs the phone
// out, so refreshes take turns across tabs (Web Locks) and within a tab (one at a time).

import { lang } from "./prefs.js";

export const API = "/api/v1";
const ACCESS = "wg_access";
const REFRESH = "wg_refresh";
const PERSON = "wg_person";
const KEPT = "wg_get:";

/** The server answered with a problem+json (or another error status). */
export class ApiError extends Error {
  constructor(status, problem, retryAfter = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.code = problem.code || "";
    this.retryAfter = retryAfter;
  }
}

/** The request never reached the server (offline, DNS, connection reset). */
export class NetworkError extends Error {
  constructor(message) {
    super(message);
    this.name = "NetworkError";
  }
}

/** No valid session any more: the caller should offer sign-in. */
export class SignedOut extends Error {
  constructor(problem = {}) {
    super(problem.detail || "signed out");
    this.name = "SignedOut";
    this.problem = problem;
  }
}

function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Storage blocked: the session lasts as long as the page.
  }
}

export function isSignedIn() {
  return Boolean(read(REFRESH));
}

export function refreshToken() {
  return read(REFRESH);
}

export function saveTokens(pair) {
  write(ACCESS, pair.access_token);
  write(REFRESH, pair.refresh_token);
  write(PERSON, subjectOf(pair.access_token));
}

/** Who is signed in on this phone (the token's subject), or null. */
export function currentPersonId() {
  return read(PERSON);
}

function subjectOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub || null;
  } catch {
    return null;
  }
}

/** Forget the tokens and everything kept for offline reading of this person's lists. */
export function forgetSession() {
  write(ACCESS, null);
  write(REFRESH, null);
  write(PERSON, null);
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith(KEPT)) localStorage.removeItem(key);
  } catch {
    // Nothing kept.
  }
  const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
  if (worker) worker.postMessage({ type: "signed-out" });
}

/**
 * Call the API. `path` is under /api/v1. Options: `body` (JSON), `form` (FormData),
 * `idempotencyKey`, `auth` (default true), `keep` (GET only: remember the answer and give it
 * back when offline, announcing it with a `wg:stale` event).
 */
export async function api(method, path, options = {}) {
  const { body, form, idempotencyKey, auth = true, keep = false } = options;
  const send = async () => {
    const token = auth ? read(ACCESS) : null;
    const headers = { Accept: "application/json", "Accept-Language": lang() };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let payload;
    if (form) {
      payload = form;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    try {
      const response = await fetch(API + path, { method, headers, body: payload, credentials: "same-origin" });
      return { token, response };
    } catch (error) {
      throw new NetworkError(error.message);
    }
  };

  let attempt;
  try {
    attempt = await send();
  } catch (error) {
    const kept = keep && method === "GET" && error instanceof NetworkError ? readKept(path) : undefined;
    if (kept === undefined) throw error;
    window.dispatchEvent(new CustomEvent("wg:stale"));
    return kept;
  }
  if (attempt.response.status === 401 && auth) {
    if (read(REFRESH)) {
      await refresh(attempt.token);
      attempt = await send();
    }
    if (attempt.response.status === 401) {
      const problem = await readProblem(attempt.response);
      forgetSession();
      throw new SignedOut(problem);
    }
  }
  if (attempt.response.headers.get("X-Wugong-Stale")) window.dispatchEvent(new CustomEvent("wg:stale"));
  const data = await parse(attempt.response);
  if (keep && method === "GET") write(KEPT + path, JSON.stringify(data));
  return data;
}

function readKept(path) {
  const text = read(KEPT + path);
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function parse(response) {
  if (response.status === 204) return null;
  if (!response.ok) {
    throw new ApiError(response.status, await readProblem(response), retryAfter(response));
  }
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

async function readProblem(response) {
  try {
    const problem = await response.json();
    return problem && typeof problem === "object" ? problem : {};
  } catch {
    return {};
  }
}

function retryAfter(response) {
  const seconds = Number.parseInt(response.headers.get("Retry-After") || "", 10);
  return Number.isFinite(seconds) ? seconds : null;
}

let refreshing = null;

function refresh(failedToken) {
  if (!refreshing) {
    const task = () => rotate(failedToken);
    const locked = navigator.locks && navigator.locks.request
      ? navigator.locks.request("wg-refresh", task)
      : task();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function rotate(failedToken) {
  const current = read(ACCESS);
  // Another tab (or call) rotated while we waited for the lock: its token is ours now.
  if (current && current !== failedToken) return;
  const token = read(REFRESH);
  if (!token) throw new SignedOut();
  let response;
  try {
    response = await fetch(`${API}/auth/refresh`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": lang() },
      body: JSON.stringify({ refresh_token: token }),
      credentials: "same-origin",
    });
  } catch (error) {
    throw new NetworkError(error.message);
  }
  if (response.ok) {
    saveTokens(await response.json());
    return;
  }
  const problem = await readProblem(response);
  if (response.status === 401 || response.status === 422) {
    // refresh_reused / refresh_invalid: this phone's session is over.
    forgetSession();
    throw new SignedOut(problem);
  }
  throw new ApiError(response.status, problem, retryAfter(response));
}
