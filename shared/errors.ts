// Error codes of the RPC contract, shared by edge functions and client apps.
//
// Every RPC reports bad input with a specific SQLSTATE and a message that says
// what was wrong; PostgREST turns the SQLSTATE into the HTTP status and returns
// the body {code, message, details, hint}. docs/conventions.md lists which
// function raises which code.

/** SQLSTATEs our functions raise on purpose. */
export const SqlState = {
  /** A parameter's value is invalid (bad format, out of range, too long). HTTP 400. */
  invalidParameterValue: '22023',
  /** The value would duplicate one that must be unique (e.g. a username). HTTP 409. */
  uniqueViolation: '23505',
  /** A referenced row does not exist. HTTP 409. */
  foreignKeyViolation: '23503',
  /** A table constraint rejected the row. HTTP 400. */
  checkViolation: '23514',
  /** Not allowed: missing grant, RLS `with check`, or not signed in. HTTP 401 for anon, 403 otherwise. */
  insufficientPrivilege: '42501',
  /** The caller's plan does not include the feature (require_feature). HTTP 403. */
  featureNotInPlan: 'PT403',
  /** The thing asked for does not exist (or is not visible to the caller). HTTP 404 via PostgREST's PTxyz. */
  notFound: 'PT404',
  /** Conflicts with the current state: a stale expected version, a lost lease, a wrong lifecycle step. HTTP 409. */
  conflict: 'PT409',
  /** A rate limit or quota is exhausted. HTTP 429. */
  rateLimited: 'PT429',
  /** A value is not valid for its type (e.g. a malformed uuid). HTTP 400. */
  invalidTextRepresentation: '22P02',
} as const;

export type SqlStateCode = (typeof SqlState)[keyof typeof SqlState];

/** The error body PostgREST (and the local gateway) returns, and supabase-js exposes as `error`. */
export interface PostgrestErrorBody {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

/**
 * PostgREST's SQLSTATE -> HTTP status mapping (PostgREST v12-v14 `Error.hs`;
 * ../shared/research/postgrest_supabase.md §3.2). `anonymous` is whether the
 * request ran as the anon role: 42501 is 401 for anon and 403 otherwise.
 */
export function httpStatusForSqlState(code: string, message = '', anonymous = false): number {
  const custom = /^PT(\d{3})$/.exec(code);
  if (custom) return Number(custom[1]);
  if (/^PT/.test(code)) return 500;
  const prefix2 = code.slice(0, 2);
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
  switch (prefix2) {
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
      return 500;
    case 'P0':
      return 500;
  }
  return 400;
}

/** An RPC error with its SQLSTATE, as clients see it. */
export class RpcError extends Error {
  readonly code: string;
  readonly details: string | null;
  readonly hint: string | null;

  constructor(body: PostgrestErrorBody) {
    super(body.message);
    this.name = 'RpcError';
    this.code = body.code;
    this.details = body.details;
    this.hint = body.hint;
  }

  /** The HTTP status PostgREST answers this error with for a signed-in caller. */
  get status(): number {
    return httpStatusForSqlState(this.code, this.message);
  }
}

/** Narrows an unknown error (supabase-js `error`, a pg error) to one with a SQLSTATE. */
export function isSqlState(err: unknown, code: SqlStateCode | string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
