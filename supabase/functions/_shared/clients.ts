// supabase-js clients for functions, as Supabase recommends: one that acts as
// the caller (their JWT, so RLS and grants apply), and the service client,
// used only where no user is involved (webhooks, health).
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { FunctionEnv } from './env.ts';

const options = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

/** A client that calls RPCs as the user whose `Authorization: Bearer <jwt>` came with the request. */
export function userClient(env: FunctionEnv, authorization: string): SupabaseClient {
  return createClient(env.supabaseUrl, env.anonKey, { ...options, global: { headers: { Authorization: authorization } } });
}

/** The service-role client: bypasses RLS; only for calls no user makes. */
export function serviceClient(env: FunctionEnv): SupabaseClient {
  return createClient(env.supabaseUrl, env.serviceKey, options);
}
