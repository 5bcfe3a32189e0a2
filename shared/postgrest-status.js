// @ts-self-types="./postgrest-status.d.ts"
// PostgREST's SQLSTATE -> HTTP status mapping (PostgREST v12-v14 `Error.hs`;
// ../shared/research/postgrest_supabase.md §3.2), in plain JavaScript so that
// the local API gateway (Node, no build step), edge functions (Deno) and
// TypeScript clients (through shared/errors.ts) all use this one copy.

/**
 * @param {string} code SQLSTATE (or PTxyz)
 * @param {string} [message] the error message (two codes depend on it)
 * @param {boolean} [anonymous] whether the request ran as the anon role
 * @returns {number}
 */
export function httpStatusForSqlState(code, message = '', anonymous = false) {
  const custom = /^PT(\d{3})$/.exec(code);
  if (custom) return Number(custom[1]);
  if (/^PT/.test(code)) return 500;
  switch (code) {
    case '23503':
    case '23505':
      return 409;
    case '25006':
      return 405;
    case '21000':
      return message.endsWith('requires a WHERE clause') ? 400 : 500;
    case '22023':
      return /^role .* does not exist/.test(message) ? 401 : 400;
    case '53400':
      return 500;
    case '57P01':
      return 503;
    case '42883':
      return message.startsWith('function xmlagg(') ? 406 : 404;
    case '42P01':
      return 404;
    case '42P17':
      return 500;
    case '42501':
      return anonymous ? 401 : 403;
    case 'P0001':
      return 400;
  }
  switch (code.slice(0, 2)) {
    case '08':
      return 503;
    case '09':
      return 500;
    case '0L':
    case '0P':
      return 403;
    case '25':
      return 500;
    case '28':
      return 403;
    case '2D':
    case '38':
    case '39':
    case '3B':
    case '40':
      return 500;
    case '53':
      return 503;
    case '54':
    case '55':
    case '57':
    case '58':
    case 'F0':
    case 'HV':
    case 'XX':
    case 'P0':
      return 500;
  }
  return 400;
}
