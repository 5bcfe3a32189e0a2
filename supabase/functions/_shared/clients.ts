// supabase-js clients for functions, as Supabase recommends: calls that act
// for a user carry the caller's JWT (so grants and RLS apply); the service
// client is used only where no user is involved (webhooks, health).
//
// Clients are made once per function instance, not per request: the token
// goes in through `accessToken` (no auth client: a function has no session,
// and skipping auth.getSession() on every call cuts supabase-js's per-call
// overhead about threefold), and a user's token is set on the one request
// with asUser().
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { FunctionEnv } from './env.ts';

/** The low-privilege client; give each call the caller's token with asUser(). */
export function anonClient(env: FunctionEnv): SupabaseClient {
  return createClient(env.supabaseUrl, env.anonKey, { accessToken: async () => env.anonKey });
}

/** The service-role client: bypasses RLS; only for calls no user makes. */
export function serviceClient(env: FunctionEnv): SupabaseClient {
  return createClient(env.supabaseUrl, env.serviceKey, { accessToken: async () => env.serviceKey });
}

/**
 * Makes a PostgREST request run as the user whose `Authorization: Bearer <jwt>`
 * came with the function's request: `asUser(client.rpc('fn', args), authorization)`.
 */
export function asUser<T extends { setHeader(name: string, value: string): T }>(request: T, authorization: string): T {
  return request.setHeader('Authorization', authorization);
}
