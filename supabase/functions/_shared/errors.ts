// JSON responses and errors for edge functions. Errors have the same shape as
// PostgREST's ({code, message, details}) so clients handle both alike.
import { corsHeaders, preflight } from './cors.ts';

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...corsHeaders, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
  });
}

/** An error a handler answers with: its HTTP status, a stable code and a message for people. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorResponse(err: HttpError): Response {
  return json({ code: err.code, message: err.message, details: err.details }, err.status, err.headers);
}

/** The zod issues of a failed parse, as a short list for `details`. */
export function zodDetails(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string[] {
  return issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`);
}

// The error behind each 500 serve() answered for an uncaught error, for the
// request log (_shared/request-log.ts) to record; weak, so nothing is kept.
const uncaught = new WeakMap<Response, unknown>();

/** The uncaught error behind a 500 answered by serve(), if that is what `res` is. */
export function uncaughtError(res: Response): unknown {
  return uncaught.get(res);
}

/**
 * Runs a handler: OPTIONS and HttpError answered here; anything else unexpected
 * is logged and answered 500 without internals.
 */
export function serve(handler: (req: Request) => Promise<Response>): (req: Request) => Promise<Response> {
  return async (req) => {
    const pre = preflight(req);
    if (pre) return pre;
    try {
      return await handler(req);
    } catch (e) {
      if (e instanceof HttpError) return errorResponse(e);
      console.error(e);
      const res = errorResponse(new HttpError(500, 'internal_error', 'internal error'));
      uncaught.set(res, e ?? new Error('unknown'));
      return res;
    }
  };
}

/** A PostgREST error from supabase-js as an HttpError with the status PostgREST gave. */
export function fromPostgrest(
  error: { code?: string; message: string; details?: string | null; hint?: string | null },
  status: number,
): HttpError {
  if (status >= 500 || status === 0) return new HttpError(502, 'database_error', 'the database call failed');
  return new HttpError(status, error.code ?? 'database_error', error.message, error.details ?? null);
}
