// The API for end-to-end tests: the local gateway started by `npm test`
// (SUPABASE_API_URL), or `npm start`'s on 54321. Real supabase-js clients,
// JWTs signed with the local secret as GoTrue would sign them.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import { supabaseFunctionEnv } from '../../local-stack/gateway/functions-runtime.mjs';
import { local, localFunctionDefaults } from '../../local-stack/lib.mjs';
import { loadEnv, type FunctionEnv } from '../../supabase/functions/_shared/env.ts';
import { claimsFor, type TestUser } from './db.ts';

export const apiUrl = process.env.SUPABASE_API_URL ?? `http://127.0.0.1:${local.apiPort}`;
export const keys = local;
export const webhookSecret = process.env.WHOP_WEBHOOK_SECRET ?? localFunctionDefaults.WHOP_WEBHOOK_SECRET;

const secret = new TextEncoder().encode(local.jwtSecret);

/** Signs claims with the local JWT secret (HS256), as GoTrue does for a session. */
export function signJwt(claims: Record<string, unknown>, opts: { secret?: string } = {}): Promise<string> {
  const { exp, iat, ...rest } = claims;
  const jwt = new SignJWT(rest).setProtectedHeader({ alg: 'HS256', typ: 'JWT' });
  if (typeof iat === 'number') jwt.setIssuedAt(iat);
  if (typeof exp === 'number') jwt.setExpirationTime(exp);
  return jwt.sign(opts.secret ? new TextEncoder().encode(opts.secret) : secret);
}

export const tokenFor = (user: TestUser) => signJwt(claimsFor(user));

const noSession = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

/** A client with the publishable key only: anon. */
export const anonClient = (): SupabaseClient => createClient(apiUrl, local.publishableKey, noSession);

/** A client with the secret key: service_role. */
export const serviceClient = (): SupabaseClient => createClient(apiUrl, local.secretKey, noSession);

/** A client signed in as `user` (its access token in Authorization, the publishable key as apikey). */
export async function userClient(user: TestUser): Promise<SupabaseClient> {
  const token = await tokenFor(user);
  return createClient(apiUrl, local.publishableKey, { ...noSession, global: { headers: { Authorization: `Bearer ${token}` } } });
}

/** A client sending a given Authorization header. */
export const clientWithAuthorization = (authorization: string, options: Record<string, unknown> = {}): SupabaseClient =>
  createClient(apiUrl, local.publishableKey, { ...noSession, ...options, global: { headers: { Authorization: authorization } } });

/**
 * The environment the functions runtime gives functions, read with the
 * functions' own loadEnv (as index.ts does), for handler tests.
 */
export function functionEnv(vars: Record<string, string | undefined> = {}): FunctionEnv {
  const env: Record<string, string | undefined> = {
    ...supabaseFunctionEnv({ url: apiUrl, keys: local, dbUrl: process.env.SUPABASE_DB_URL ?? '' }),
    WHOP_WEBHOOK_SECRET: webhookSecret,
    ...vars,
  };
  return loadEnv((name) => env[name]);
}
