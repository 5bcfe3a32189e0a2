// The API for end-to-end tests: the local gateway started by `npm test`
// (SUPABASE_API_URL), or `npm start`'s on 54321. Real supabase-js clients,
// JWTs signed with the local secret as GoTrue would sign them.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import { supabaseFunctionEnv } from '../../local-stack/gateway/functions-runtime.mjs';
import { local, localFunctionDefaults } from '../../local-stack/lib.mjs';
import { loadEnv, type FunctionEnv } from '../../supabase/functions/_shared/env.ts';
import { claimsFor, type Claims, type TestUser } from './db.ts';

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

/** A secret that is not the project's: tokens signed with it are forged. */
export const otherJwtSecret = 'another-secret-that-is-at-least-32-characters';

export interface TokenOptions {
  /** Issued two hours ago, expired an hour ago. */
  expired?: boolean;
  /** Signed with otherJwtSecret instead of the project's secret. */
  forged?: boolean;
  /** Claims added to (or overriding) claimsFor(user). */
  claims?: Claims;
}

/** The access token GoTrue would issue `user` (or an expired or forged one). */
export function tokenFor(user: TestUser, opts: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { ...claimsFor(user, opts.claims), ...(opts.expired ? { iat: now - 7200, exp: now - 3600 } : {}) };
  return signJwt(claims, opts.forged ? { secret: otherJwtSecret } : {});
}

/** `Authorization: Bearer <token>`, as a headers object. */
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

const noSession = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

/** A client with the publishable key only: anon. */
export const anonClient = (): SupabaseClient => createClient(apiUrl, local.publishableKey, noSession);

/** A client with the secret key: service_role. */
export const serviceClient = (): SupabaseClient => createClient(apiUrl, local.secretKey, noSession);

/** A client sending a given Authorization header. */
export const clientWithAuthorization = (authorization: string, options: Record<string, unknown> = {}): SupabaseClient =>
  createClient(apiUrl, local.publishableKey, { ...noSession, ...options, global: { headers: { Authorization: authorization } } });

/**
 * A client signed in as `user` (its access token in Authorization, the
 * publishable key as apikey); `options` are further createClient options.
 */
export async function userClient(user: TestUser, options: Record<string, unknown> = {}): Promise<SupabaseClient> {
  return clientWithAuthorization(`Bearer ${await tokenFor(user)}`, options);
}

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
