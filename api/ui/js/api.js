// The API client: the key lives in sessionStorage (gone when the tab closes) and travels only
// in the Authorization header, never in a URL.

const KEY = "actorgraph.key";

export function getKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

// accept: "application/json" answers parsed JSON; any other type answers the body as text.
export async function api(path, { method = "GET", body, accept = "application/json" } = {}) {
  const key = getKey();
  if (!key) throw new ApiError(401, "enter an API key first");
  const headers = { Authorization: `Bearer ${key}`, Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const asJson = accept === "application/json" || !response.ok;
  const data = asJson ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    throw new ApiError(response.status, (data && (data.detail || data.title)) || response.statusText);
  }
  return data;
}
