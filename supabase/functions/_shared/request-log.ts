// Request logging for edge functions: every request a function answers is
// recorded in api_request_logs (log_api_request), and every 5xx, with the
// error behind an uncaught one, in error_logs (log_error), both as the
// service role and under the request's correlation id.
//
// The writes never delay or change an answer: they start after the handler
// has produced its Response and run as background work (EdgeRuntime.waitUntil
// on Supabase, which keeps the instance alive until they finish —
// guides/functions/background-tasks; fire-and-forget where it is absent, as
// in the local runtime and in vitest). A failed write is reported on the
// console and dropped. An instance with too many writes still pending (the
// database is slow or down) drops new ones instead of piling them up.
//
// Sampling: a function may sample its routine answers (rate-limit, the hot
// endpoint, logs one in `sampleEvery` of its 200s and 429s); every other
// status, and every 5xx, is always logged.
import type { SupabaseClient } from '@supabase/supabase-js';
import { HttpError, errorResponse, uncaughtError } from './errors.ts';

export const correlationHeader = 'X-Correlation-Id';

/** One api_request_logs row, as log_api_request takes it. */
export interface RequestLogRow {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestSize: number | null;
  responseSize: number | null;
  ip: string | null;
  userAgent: string | null;
  correlationId: string;
}

/** One error_logs row for a 5xx answer. */
export interface ErrorLogRow {
  message: string;
  severity: 'error' | 'critical';
  details: Record<string, unknown>;
  method: string;
  path: string;
  ip: string | null;
  userAgent: string | null;
  correlationId: string;
}

export interface RequestLogWriter {
  request(row: RequestLogRow): Promise<void>;
  error(row: ErrorLogRow): Promise<void>;
}

export interface RequestLogOptions {
  /** The function's name: the logged path is /functions/v1/<name>/… */
  fn: string;
  writer: RequestLogWriter;
  /** Log one in this many of the `sampled` statuses (default 1: all). */
  sampleEvery?: number;
  /** Statuses subject to sampling (default: none). */
  sampled?: readonly number[];
  /** Where background work goes (default: EdgeRuntime.waitUntil, else fire-and-forget). */
  background?: (work: Promise<unknown>) => void;
  /** Writes an instance may have pending before it drops new ones. */
  maxPending?: number;
  /** A monotonic clock in ms (default performance.now). */
  clock?: () => number;
  warn?: (message: string) => void;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// log_api_request and log_error refuse any other method (private.optional_method)
const loggableMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The caller's correlation id (X-Correlation-Id, else X-Request-Id) when it is a UUID, else a new one. */
export function correlationIdOf(req: Request): string {
  const given = req.headers.get(correlationHeader) ?? req.headers.get('X-Request-Id') ?? '';
  return uuidPattern.test(given.trim()) ? given.trim().toLowerCase() : crypto.randomUUID();
}

/** The client's address from X-Forwarded-For, when it is one the database accepts as a host address. */
export function clientIp(req: Request): string | null {
  const first = (req.headers.get('X-Forwarded-For') ?? '').split(',')[0]?.trim() ?? '';
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(first);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255) ? first : null;
  return /^[0-9a-f:]{2,39}$/i.test(first) && first.includes(':') ? first : null;
}

/** The path as the API serves it, whether the runtime strips /functions/v1 (hosted, local) or not. */
export function loggedPath(req: Request, fn: string): string {
  const pathname = new URL(req.url).pathname.replace(/^\/functions\/v1(?=\/)/, '');
  const path = `/functions/v1${pathname.startsWith(`/${fn}`) ? pathname : `/${fn}${pathname === '/' ? '' : pathname}`}`;
  return path.slice(0, 500);
}

function defaultBackground(work: Promise<unknown>): void {
  const runtime = (globalThis as { EdgeRuntime?: { waitUntil?: (p: Promise<unknown>) => void } }).EdgeRuntime;
  if (typeof runtime?.waitUntil === 'function') runtime.waitUntil(work);
}

function withCorrelationHeader(res: Response, correlationId: string): Response {
  try {
    res.headers.set(correlationHeader, correlationId);
    return res;
  } catch {
    // immutable headers (a fetched Response): copy them
    const headers = new Headers(res.headers);
    headers.set(correlationHeader, correlationId);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
}

async function bodySize(copy: Response | null): Promise<{ size: number | null; text: string | null }> {
  if (!copy?.body) return { size: copy ? 0 : null, text: null };
  const bytes = new Uint8Array(await copy.arrayBuffer());
  return { size: bytes.byteLength, text: copy.status >= 500 ? new TextDecoder().decode(bytes.slice(0, 2000)) : null };
}

function answerOf(text: string | null): { code?: unknown; message?: unknown } {
  try {
    return text ? (JSON.parse(text) as { code?: unknown; message?: unknown }) : {};
  } catch {
    return {};
  }
}

function describeError(e: unknown): Record<string, unknown> {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack?.slice(0, 4000) ?? null };
  return { value: String(e).slice(0, 1000) };
}

/**
 * Wraps a function's handler (create<Name>Handler(env)): the answer is the
 * handler's, plus an X-Correlation-Id header; the logging happens afterwards.
 */
export function withRequestLog(
  handler: (req: Request) => Promise<Response>,
  options: RequestLogOptions,
): (req: Request) => Promise<Response> {
  const { fn, writer } = options;
  const sampleEvery = Math.max(1, Math.floor(options.sampleEvery ?? 1));
  const sampled = new Set(options.sampled ?? []);
  const background = options.background ?? defaultBackground;
  const maxPending = options.maxPending ?? 100;
  const clock = options.clock ?? (() => performance.now());
  const warn = options.warn ?? ((m: string) => console.warn(m));
  let seen = 0;
  let pending = 0;

  function shouldLog(status: number): boolean {
    if (!sampled.has(status)) return true;
    return seen++ % sampleEvery === 0;
  }

  /** What the log needs from the request, read while it is open (Deno closes it once the answer is sent). */
  function describeRequest(req: Request, correlationId: string) {
    const declared = req.headers.has('Content-Length') ? Number(req.headers.get('Content-Length')) : NaN;
    return {
      method: req.method.toUpperCase(),
      path: loggedPath(req, fn),
      ip: clientIp(req),
      userAgent: req.headers.get('User-Agent')?.slice(0, 1000) || null,
      correlationId,
      requestSize: Number.isSafeInteger(declared) && declared >= 0 ? declared : null,
    };
  }

  async function record(request: ReturnType<typeof describeRequest>, status: number, copy: Response | null, error: unknown, durationMs: number) {
    const { size, text } = await bodySize(copy);
    const { requestSize, ...base } = request;
    const writes = [writer.request({ ...base, status, durationMs, requestSize, responseSize: size })];
    if (status >= 500) {
      const answer = answerOf(text);
      writes.push(writer.error({
        ...base,
        severity: error === undefined ? 'error' : 'critical',
        message: error === undefined
          ? `${fn} answered ${status}${typeof answer.code === 'string' ? ` ${answer.code}` : ''}`
          : `${fn}: uncaught ${error instanceof Error ? `${error.name}: ${error.message}` : 'error'}`.slice(0, 10000),
        details: {
          function: fn, status, duration_ms: durationMs,
          code: answer.code ?? null, answer: typeof answer.message === 'string' ? answer.message : null,
          ...(error === undefined ? {} : { error: describeError(error) }),
        },
      }));
    }
    await Promise.all(writes);
  }

  /** Whether this answer is logged: loggable method, not sampled out, and room for another pending write. */
  function admits(req: Request, status: number, error: unknown): boolean {
    if (!loggableMethods.has(req.method.toUpperCase())) return false;
    if (status < 500 && error === undefined && !shouldLog(status)) return false;
    if (pending < maxPending) return true;
    warn(`${fn}: request log dropped (${pending} writes pending)`);
    return false;
  }

  function schedule(req: Request, res: Response, error: unknown, started: number, correlationId: string) {
    if (!admits(req, res.status, error)) return;
    // the copy is read in the background, so the size costs the answer nothing
    const copy = res.bodyUsed ? null : res.clone();
    const durationMs = Math.max(0, Math.round(clock() - started));
    const request = describeRequest(req, correlationId);
    pending++;
    const work = record(request, res.status, copy, error, durationMs)
      .catch((e) => warn(`${fn}: request log failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => { pending--; });
    background(work);
  }

  return async (req) => {
    const started = clock();
    const correlationId = correlationIdOf(req);
    let res: Response;
    let error: unknown;
    try {
      res = await handler(req);
      error = uncaughtError(res);
    } catch (e) {
      // serve() answers every error itself; this is the last line for a handler that does not use it
      error = e ?? new Error('unknown');
      console.error(e);
      res = errorResponse(new HttpError(500, 'internal_error', 'internal error'));
    }
    res = withCorrelationHeader(res, correlationId);
    try {
      schedule(req, res, error, started, correlationId);
    } catch (e) {
      warn(`${fn}: request log failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return res;
  };
}

/** The writer: the service role's log_api_request and log_error RPCs. */
export function rpcWriter(service: SupabaseClient): RequestLogWriter {
  const check = (what: string) => ({ error }: { error: { message: string } | null }) => {
    if (error) throw new Error(`${what}: ${error.message}`);
  };
  return {
    request: async (row) =>
      check('log_api_request')(await service.rpc('log_api_request', {
        p_method: row.method, p_path: row.path, p_status_code: row.status, p_duration_ms: row.durationMs,
        p_request_size: row.requestSize, p_response_size: row.responseSize, p_ip_address: row.ip,
        p_user_agent: row.userAgent, p_correlation_id: row.correlationId,
      })),
    error: async (row) =>
      check('log_error')(await service.rpc('log_error', {
        p_error_type: 'api', p_error_category: 'edge_function', p_error_message: row.message, p_error_details: row.details,
        p_request_path: row.path, p_request_method: row.method, p_user_agent: row.userAgent, p_ip_address: row.ip,
        p_severity: row.severity, p_correlation_id: row.correlationId,
      })),
  };
}
