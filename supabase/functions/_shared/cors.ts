// CORS for browser callers, handled once here for every function: the
// preflight answer and the headers every response carries.
import { rateLimitHeaderNames } from '../../../shared/rate-limit-headers.ts';

export const corsHeaders: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'authorization, x-client-info, apikey, content-type',
  // the rate-limit headers (the contract's names), readable by browser code
  'Access-Control-Expose-Headers': rateLimitHeaderNames.join(', '),
};

/** The preflight answer, or null when `req` is not a preflight. */
export function preflight(req: Request): Response | null {
  return req.method === 'OPTIONS' ? new Response('ok', { headers: corsHeaders }) : null;
}
