// Who is calling: the checks a function makes itself when it runs with
// verify_jwt = false, as Supabase advises for the sb_ API keys
// (guides/functions/auth, guides/functions/auth-headers):
//   - a signed-in user: `Authorization: Bearer <JWT>`, verified here against
//     SUPABASE_JWKS (asymmetric signing keys; the legacy HS256 secret when the
//     set carries it as an `oct` key, as the CLI's does);
//   - a service: one of the project's secret keys in `apikey` (supabase-js
//     < 2.110.4 also repeats it as `Authorization: Bearer`; accepted only
//     when equal, the rule the API gateway applies to sb_ keys).
// Nothing else: the publishable key identifies an app, not a caller.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { FunctionEnv } from './env.ts';
import { HttpError } from './errors.ts';

export type Caller =
  | { kind: 'user'; authorization: string; claims: JWTPayload | null }
  | { kind: 'service' };

interface Jwk {
  kty?: string;
  k?: string;
  [key: string]: unknown;
}

function base64UrlDecode(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Compares two strings in time independent of where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

const invalidJwt = (why: string) => new HttpError(401, 'invalid_jwt', `invalid JWT: ${why}`);

/**
 * A verifier for users' JWTs from SUPABASE_JWKS. It returns the claims, throws
 * 401 invalid_jwt for a token it can check and rejects, and returns null when
 * the set holds no key for the token's algorithm (a hosted project still
 * signing HS256 whose JWKS lists only public keys): the caller's RPC then
 * carries the token to PostgREST, which verifies every kind and answers 401.
 */
export function createJwtVerifier(jwksJson: string | undefined) {
  let keys: Jwk[] = [];
  try {
    keys = jwksJson ? ((JSON.parse(jwksJson) as { keys?: Jwk[] }).keys ?? []) : [];
  } catch {
    console.error('SUPABASE_JWKS is not JSON: users\' JWTs are left to PostgREST to verify');
  }
  const secrets = keys.filter((k) => k.kty === 'oct' && typeof k.k === 'string').map((k) => base64UrlDecode(k.k as string));
  const publicKeys = keys.filter((k) => k.kty !== 'oct');
  const jwks = publicKeys.length ? createLocalJWKSet({ keys: publicKeys as JWK[] }) : null;
  // PostgREST allows 30 s of clock skew; the same here, so both agree on expiry.
  const options = { clockTolerance: 30 };

  return async function verify(token: string): Promise<JWTPayload | null> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw invalidJwt('not a JWT');
    }
    if (alg === 'HS256') {
      if (!secrets.length) return null;
      for (const secret of secrets) {
        try {
          return (await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] })).payload;
        } catch (e) {
          if ((e as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw invalidJwt((e as Error).message);
        }
      }
      throw invalidJwt('signature verification failed');
    }
    if (alg === 'ES256' || alg === 'RS256' || alg === 'EdDSA') {
      if (!jwks) return null;
      try {
        return (await jwtVerify(token, jwks, options)).payload;
      } catch (e) {
        throw invalidJwt((e as Error).message);
      }
    }
    throw invalidJwt(`unsupported algorithm ${alg ?? '(none)'}`);
  };
}

/**
 * The caller of a function that acts for a signed-in user or for a service.
 * Throws 401 for anyone else.
 */
export async function requireUserOrService(
  req: Request,
  env: Pick<FunctionEnv, 'secretKeys'>,
  verify: (token: string) => Promise<JWTPayload | null>,
): Promise<Caller> {
  const authorization = req.headers.get('Authorization') ?? '';
  const apikey = req.headers.get('apikey') ?? '';
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (bearer && !bearer.startsWith('sb_')) {
    return { kind: 'user', authorization: `Bearer ${bearer}`, claims: await verify(bearer) };
  }
  const isSecret = apikey.startsWith('sb_secret_') && env.secretKeys.some((k) => timingSafeEqual(k, apikey));
  if (isSecret && (bearer === undefined || bearer === apikey)) return { kind: 'service' };
  throw new HttpError(
    401,
    'unauthorized',
    'sign in: send your access token as Authorization: Bearer <JWT> (services: the secret key in the apikey header)',
  );
}

/**
 * Whether a request comes from a service: one of the project's secret keys in
 * `apikey` (the rule requireUserOrService applies), or a verified legacy JWT
 * whose role is service_role. Never throws: for a public endpoint that answers
 * everyone and tells only a service more, any other caller (no key, the
 * publishable key, a user, a bad token) is simply not a service.
 */
export async function isServiceCaller(
  req: Request,
  env: Pick<FunctionEnv, 'secretKeys'>,
  verify: (token: string) => Promise<JWTPayload | null>,
): Promise<boolean> {
  const apikey = req.headers.get('apikey') ?? '';
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(req.headers.get('Authorization') ?? '')?.[1];
  if (apikey.startsWith('sb_secret_') && env.secretKeys.some((k) => timingSafeEqual(k, apikey))) {
    return bearer === undefined || bearer === apikey;
  }
  if (!bearer || bearer.startsWith('sb_')) return false;
  try {
    return (await verify(bearer))?.role === 'service_role';
  } catch {
    return false;
  }
}
