// The admin API, as the UI calls it: JSON both ways, the API's own error text on failure.

/** A refusal from the admin API, with its explanation. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Calls a route. Requests that change state always carry a JSON body and content type, which a
 * plain cross-site form cannot send.
 */
export async function api(path, { method = 'GET', body } = {}) {
  const init = { method, headers: { accept: 'application/json' } };
  if (method !== 'GET') {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the text is the message.
  }
  if (!response.ok) throw new ApiError(response.status, json?.error ?? (text || response.statusText));
  return json;
}

/** `a=1&b=x`, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  return q.toString();
}
