// supabase-js clients for functions, as Supabase recommends: one that acts as
// the caller (their JWT, so RLS and grants apply), and the service client,
// used only where no user is involved (webhooks, health).
//
// Both pass the token through `accessToken` instead of the auth client: a
// function has no session to manage, and skipping auth.getSession() on every
// call cuts supabase-js's per-call overhead about threefold (13 ms -> 4 ms per
// rpc() in Deno here).
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { FunctionEnv } from './env.ts';

/** A client that calls RPCs as the user whose `Authorization: Bearer <jwt>` came with the request. */
export function userClient(env: FunctionEnv, authorization: string): SupabaseClient {
  const token = authorization.replace(/^bearer\s+/i, '');
  return createClient(env.supabaseUrl, env.anonKey, { accessToken: async () => token });
}

/** The service-role client: bypasses RLS; only for calls no user makes. */
export function serviceClient(env: FunctionEnv): SupabaseClient {
  return createClient(env.supabaseUrl, env.serviceKey, { accessToken: async () => env.serviceKey });
}
