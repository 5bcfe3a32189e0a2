// Database calls from handlers: a PostgREST error becomes a WorkerError, so a
// job fails the way its cause says (bad input: permanent; the API or the
// database unavailable: retryable).
import type { WorkerContext } from './types.ts';
import { permanent, retryable } from './types.ts';

interface RpcResult<T> {
  data: T | null;
  error: { code?: string; message: string } | null;
  status: number;
}

/** Calls an RPC as the worker (service role); 4xx answers are permanent, the rest retryable. */
export async function callRpc<T>(ctx: WorkerContext, fn: string, args: Record<string, unknown> = {}): Promise<T> {
  const { data, error, status } = (await ctx.db.rpc(fn, args)) as RpcResult<T>;
  if (!error) return data as T;
  const message = `${fn}: ${error.message}${error.code ? ` (${error.code})` : ''}`;
  if (status === 0 || status >= 500 || status === 429) throw retryable(message, 'database_unavailable');
  throw permanent(message, 'database_rejected');
}
