// Authentication as Supabase's local API gateway and PostgREST do it
// (../shared/research/postgrest_supabase.md §2.5, §4.4, §4.5):
//   1. the gateway rewrite: publishable/secret keys (in `apikey`, or as a
//      `Bearer sb_...`) become the anon/service_role JWTs;
//   2. PostgREST's check: HS256 against the local JWT secret, 30 s skew,
//      no token -> anon, bad token -> 401 PGRST301, claim error -> PGRST303.
import { errors as joseErrors, jwtVerify } from 'jose';

export function keyRewriter(keys) {
  return function rewrite(headers) {
    const auth = headers.authorization;
    if (auth && !/^bearer sb_/i.test(auth)) return auth;
    const apikey = headers.apikey ?? (auth ? auth.replace(/^bearer\s+/i, '') : undefined);
    if (apikey === keys.secretKey) return `Bearer ${keys.serviceRoleKey}`;
    if (apikey === keys.publishableKey) return `Bearer ${keys.anonKey}`;
    // A legacy client sends only the JWT as apikey. Kong copies it raw; we add
    // `Bearer ` so it is honoured (see §4.4: the raw copy would run as anon).
    if (apikey) return /^bearer /i.test(apikey) ? apikey : `Bearer ${apikey}`;
    return undefined;
  };
}

export class AuthError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * Verifies `Authorization` (after the rewrite). Returns the claims, or
 * `{role: 'anon'}` when there is no token. Throws AuthError on a bad token.
 */
export async function claimsFromAuthorization(authorization, secret, { anonRole = 'anon' } = {}) {
  if (!authorization) return { role: anonRole };
  const m = /^bearer\s*(.*)$/i.exec(authorization);
  if (!m) return { role: anonRole }; // PostgREST reads only Bearer tokens
  const token = m[1].trim();
  if (!token) throw new AuthError('PGRST301', 'Empty JWT is sent in Authorization header');
  if (token.split('.').length !== 3) {
    throw new AuthError('PGRST301', `Expected 3 parts in JWT; got ${token.split('.').length}`);
  }
  try {
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], clockTolerance: 30 });
    if (payload.role === undefined) payload.role = anonRole;
    if (typeof payload.role !== 'string') throw new AuthError('PGRST303', 'Invalid role claim');
    return payload;
  } catch (e) {
    if (e instanceof AuthError) throw e;
    if (e instanceof joseErrors.JWTExpired) throw new AuthError('PGRST303', 'JWT expired');
    if (e instanceof joseErrors.JWTClaimValidationFailed) throw new AuthError('PGRST303', e.message);
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new AuthError('PGRST301', 'No suitable key or wrong key type');
    }
    if (e instanceof joseErrors.JOSEAlgNotAllowed) throw new AuthError('PGRST301', 'Wrong or unsupported encoding algorithm');
    throw new AuthError('PGRST301', 'JWT cryptographic operation failed');
  }
}
