/**
 * PostgREST's SQLSTATE -> HTTP status mapping (PostgREST v12-v14 `Error.hs`;
 * ../shared/research/postgrest_supabase.md §3.2). `anonymous` is whether the
 * request ran as the anon role: 42501 is 401 for anon and 403 otherwise.
 */
export declare function httpStatusForSqlState(code: string, message?: string, anonymous?: boolean): number;
