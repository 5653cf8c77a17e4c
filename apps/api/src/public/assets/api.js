// Talks to the job API: the bearer token (kept per tab in sessionStorage) and the error format of docs/http-api.md.

const TOKEN_KEY = 'async-jobs.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An API answer that is not 2xx, carrying the contract's { code, message, details }. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = e.code ?? `http_${status}`;
    this.details = Array.isArray(e.details) ? e.details : [];
  }
}

export function headers(extra = {}) {
  const t = token.get();
  return t ? { ...extra, Authorization: `Bearer ${t}` } : extra;
}

/** fetch + JSON; resolves { status, body, response } for 2xx, throws ApiError otherwise. */
export async function api(path, init = {}) {
  let response;
  try {
    response = await fetch(path, { ...init, headers: headers(init.headers) });
  } catch (err) {
    throw new ApiError(0, { error: { code: 'network_error', message: `the API could not be reached (${err.message})` } });
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return { status: response.status, body, response };
}

/** Renders an error (ApiError or any Error) as readable DOM: code, message, one line per detail. */
export function renderError(container, err) {
  container.replaceChildren();
  const head = document.createElement('div');
  const code = document.createElement('span');
  code.className = 'code';
  code.textContent = err.code ?? 'error';
  head.append(code, ` ${err.status ? `(HTTP ${err.status}) ` : ''}${err.message}`);
  container.append(head);
  if (err.code === 'unauthorized') {
    const hint = document.createElement('div');
    hint.textContent = 'Enter a valid API token above.';
    container.append(hint);
  }
  if (err.details?.length) {
    const list = document.createElement('ul');
    for (const d of err.details) {
      const li = document.createElement('li');
      const where = d.index !== undefined ? `#${d.index} ` : '';
      // Schema messages name their field already ("data.ms must be …"); others get the path in front.
      const named = d.path && d.message?.startsWith(d.path);
      li.textContent = d.path ? `${where}${named ? d.message : `${d.path}: ${d.message}`}` : JSON.stringify(d);
      if (d.knownTypes) li.textContent += ` (known: ${d.knownTypes.join(', ')})`;
      list.append(li);
    }
    container.append(list);
  }
  container.hidden = false;
}
