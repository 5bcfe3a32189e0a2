// PostgREST's error responses: the {code, message, details, hint} body, the
// status it answers with, and the mapping of PostgreSQL errors (SQLSTATE ->
// HTTP status, PostgREST src/PostgREST/Error.hs; shared/postgrest-status.js).
import { httpStatusForSqlState } from '../../shared/postgrest-status.js';

export class PgrstError extends Error {
  constructor(status, code, message, details = null, hint = null, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.hint = hint;
    this.headers = headers;
  }

  body() {
    return { code: this.code, message: this.message, details: this.details, hint: this.hint };
  }
}


/** A loud refusal for what the local gateway does not implement (never a different answer). */
export function notImplemented(feature, hint = 'Use `supabase start` (PostgREST) for it.') {
  return new PgrstError(501, 'LOCAL501', `The local API gateway does not implement ${feature}`, null, hint);
}

/** A PostgreSQL error as PostgREST reports it: its status, and {code,message,details,hint}. */
export function fromPgError(e, anonymous) {
  // Node's network errors have codes too (ECONNREFUSED, and EPIPE, which looks
  // like a SQLSTATE): only an error the server sent (it has a severity) is a
  // database error.
  if (!e || typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code) || typeof e.severity !== 'string') {
    // PostgREST's wording (Error.hs ConnectionUsageError), the cause in details.
    return new PgrstError(503, 'PGRST000', 'Database connection error.', String(e?.message ?? e));
  }
  if (e.code === 'PGRST') return fromPgrstRaise(e);
  const status = httpStatusForSqlState(e.code, e.message, anonymous);
  const headers = status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  return new PgrstError(status, e.code, e.message, e.detail ?? null, e.hint ?? null, headers);
}

// RAISE SQLSTATE 'PGRST' USING message = '{"code":..,"message":..}', detail = '{"status":..,"headers":{..}}'
function fromPgrstRaise(e) {
  let msg;
  let det;
  try {
    msg = JSON.parse(e.message);
    if (typeof msg?.code !== 'string' || typeof msg?.message !== 'string') throw new Error();
  } catch {
    return new PgrstError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
      `Invalid JSON value for MESSAGE: '${e.message}'`, 'MESSAGE must be a JSON object with obligatory keys: \'code\', \'message\' and optional keys: \'details\', \'hint\'.');
  }
  if (e.detail == null) {
    return new PgrstError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
      'DETAIL is missing in the RAISE statement', 'DETAIL must be a JSON object with obligatory keys: \'status\', \'headers\' and optional key: \'status_text\'.');
  }
  try {
    det = JSON.parse(e.detail);
    if (!Number.isInteger(det?.status) || typeof det?.headers !== 'object' || det.headers === null) throw new Error();
  } catch {
    return new PgrstError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
      `Invalid JSON value for DETAIL: '${e.detail}'`, 'DETAIL must be a JSON object with obligatory keys: \'status\', \'headers\' and optional key: \'status_text\'.');
  }
  const headers = Object.fromEntries(Object.entries(det.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const err = new PgrstError(det.status, msg.code, msg.message, msg.details ?? null, msg.hint ?? null, headers);
  err.statusText = det.status_text;
  return err;
}

// Warp sends the reason phrase of Haskell's http-types for a known code and an
// empty one otherwise (PostgREST builds statuses with `toEnum`); Node's own
// table words some differently (413, 414, 416, 418).
const reasonPhrases = new Map(Object.entries({
  100: 'Continue', 101: 'Switching Protocols',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Request Entity Too Large',
  414: 'Request-URI Too Long', 415: 'Unsupported Media Type', 416: 'Requested Range Not Satisfiable',
  417: 'Expectation Failed', 418: "I'm a teapot", 422: 'Unprocessable Entity', 426: 'Upgrade Required',
  428: 'Precondition Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 511: 'Network Authentication Required',
}).map(([k, v]) => [Number(k), v]));

/** The reason phrase PostgREST's responses carry for `status`. */
export const reasonPhrase = (status) => reasonPhrases.get(status) ?? '';
