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

// PostgREST's SQLSTATE -> HTTP status mapping lives in plain JS so the local
// API gateway (Node) uses the same copy.
import { httpStatusForSqlState } from './postgrest-status.js';
export { httpStatusForSqlState };

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
