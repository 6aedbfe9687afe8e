// Talking to the platform's JSON API from the tablet pages.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// An application/problem+json answer in the page's language ("HTTP 500" when there is none).
export function problemText(problem, status, lang) {
  if (!problem) return "HTTP " + status;
  return problem["detail_" + lang] || problem["title_" + lang] || problem.detail || problem.title || "HTTP " + status;
}

// GET; resolves with {status, ok, body}; rejects (TypeError, AbortError) when no answer came.
export async function getJson(url, signal) {
  const response = await fetch(url, { signal: signal, credentials: "same-origin", headers: { Accept: "application/json" } });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  return { status: response.status, ok: response.ok, body: body };
}

// Any method; resolves with {status, ok, body}, or {network: true} when no answer came. Never rejects.
export async function sendJson(method, url, body, options) {
  const opts = options || {};
  const headers = Object.assign({ Accept: "application/json", "X-CSRFToken": opts.csrf || "" }, opts.headers || {});
  if (opts.lang) headers["Accept-Language"] = opts.lang;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method: method, credentials: "same-origin", cache: "no-store", headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    return { network: true, status: 0, ok: false, body: null };
  }
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  return { status: response.status, ok: response.ok, body: data, headers: response.headers };
}
