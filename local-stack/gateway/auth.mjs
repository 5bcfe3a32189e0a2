// Authentication as Supabase's hosted API gateway, its functions gateway and
// PostgREST do it (docs/functions.md "Keys and JWTs" has the table, with
// sources; ../shared/research/postgrest_supabase.md §2.5, §4.4, §4.5):
//   1. /rest/v1: the API key is required and must be one of the project's
//      keys; the key becomes the anon/service_role JWT unless the caller sent
//      its own JWT in Authorization (restAuthorization);
//   2. /functions/v1 with verify_jwt: the raw Authorization header must carry a
//      project JWT, checked before any key handling (functionsJwtCheck);
//      without verify_jwt the request reaches the function untouched;
//   3. PostgREST's check: HS256 against the local JWT secret, 30 s skew,
//      no token -> anon, bad token -> 401 PGRST301, claim error -> PGRST303.
// Where hosted behaviour is not documented (or its documents disagree) the
// local gateway refuses, says so in `X-Local-Gateway-Note`, and logs it.
import { errors as joseErrors, jwtVerify } from 'jose';

/** A refusal by the API gateway itself (not PostgREST): status, JSON body, and a note when hosted's answer is not documented. */
export class GatewayError extends Error {
  constructor(status, body, note) {
    super(body.message ?? body.msg ?? 'refused');
    this.status = status;
    this.body = body;
    this.note = note;
  }
}

const undocumented = (what) => `local gateway: ${what} (docs/functions.md, Keys and JWTs)`;

/** Which of the project's keys `value` is: publishable, secret, anon, service_role, or null. */
export function keyKind(keys, value) {
  if (!value) return null;
  if (value === keys.publishableKey) return 'publishable';
  if (value === keys.secretKey) return 'secret';
  if (value === keys.anonKey) return 'anon';
  if (value === keys.serviceRoleKey) return 'service_role';
  return null;
}

// Secret keys "cannot be used in the browser (matches on the User-Agent
// header) and will always reply with HTTP 401" (guides/api/api-keys). The
// exact match is not published; every browser's User-Agent starts Mozilla/.
const browserUserAgent = /^Mozilla\//;

/**
 * The Authorization the hosted API gateway hands PostgREST for a /rest/v1
 * request, or a GatewayError. Only the `apikey` header is read: whether
 * hosted also takes `?apikey=` on RPC calls (where a query parameter is a
 * function argument) is not documented.
 */
export function restAuthorization(keys, headers) {
  const apikey = headers.apikey;
  if (!apikey) {
    throw new GatewayError(401, { message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' },
      undocumented('no apikey header (?apikey= is not read); the body is the one hosted projects are seen to send, not a documented one'));
  }
  const kind = keyKind(keys, apikey);
  if (!kind) {
    throw new GatewayError(401, { message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' },
      undocumented('the apikey is none of the project keys; the body is the one hosted projects are seen to send, not a documented one'));
  }
  if (kind === 'secret' && browserUserAgent.test(headers['user-agent'] ?? '')) {
    throw new GatewayError(401, { message: 'Forbidden use of secret API key in browser' },
      undocumented('a secret key from a browser User-Agent is refused with 401 as documented; the body is not documented'));
  }
  const auth = headers.authorization;
  const bearerKey = /^bearer\s+(sb_\S*)\s*$/i.exec(auth ?? '')?.[1];
  if (bearerKey !== undefined && bearerKey !== apikey) {
    // "You cannot send a publishable or secret key in the Authorization:
    // Bearer ... header, except if the value exactly equals the apikey header."
    throw new GatewayError(401, { message: 'Invalid API key', hint: 'An sb_ key in Authorization must equal the apikey header.' },
      undocumented('Authorization: Bearer sb_... differs from apikey: refused as documented; the body is not documented'));
  }
  // A caller's own JWT (a user's session) wins over the key; PostgREST checks it.
  if (auth && bearerKey === undefined) return auth;
  if (kind === 'publishable') return `Bearer ${keys.anonKey}`;
  if (kind === 'secret') return `Bearer ${keys.serviceRoleKey}`;
  return `Bearer ${apikey}`; // the legacy anon / service_role JWT keys are JWTs themselves
}

/**
 * The platform's verify_jwt check on /functions/v1 (functions with
 * verify_jwt = true): the raw Authorization header must be `Bearer <JWT>`
 * signed for the project (here: HS256 with the local secret; the local stack
 * has no asymmetric signing keys). Bodies as hosted sends them
 * (troubleshooting/edge-function-401-error-response). Returns nothing when the
 * request may pass; throws GatewayError otherwise.
 */
export async function functionsJwtCheck(headers, secret) {
  const auth = headers.authorization;
  const apikey = headers.apikey;
  if (!auth) {
    throw new GatewayError(401, { code: 401, message: 'Missing authorization header' },
      apikey?.startsWith('sb_')
        ? undocumented('verify_jwt with only an sb_ key in apikey: versions of guides/functions/auth-headers disagree on whether it passes, so it is refused; use verify_jwt = false for such callers')
        : undefined);
  }
  const token = /^Bearer (\S+)$/.exec(auth)?.[1];
  if (token?.startsWith('sb_')) {
    throw new GatewayError(401, { code: 401, message: 'Invalid JWT' },
      undocumented('verify_jwt with Authorization: Bearer sb_...: versions of guides/functions/auth-headers disagree on whether it passes, so it is refused; use verify_jwt = false and check the key in the function'));
  }
  try {
    if (!token) throw new Error('not a Bearer token');
    await jwtVerify(token, secret, { algorithms: ['HS256'] });
  } catch {
    throw new GatewayError(401, { code: 401, message: 'Invalid JWT' });
  }
}

export class AuthError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * Verifies `Authorization` (as restAuthorization hands it on). Returns the claims, or
 * `{role: 'anon'}` when there is no token. Throws AuthError on a bad token.
 */
// Verified tokens and their claims, until they expire: a client sends the same
// session token with every request, and PostgREST caches them the same way
// (jwt-cache-max-entries, 1000 by default). The oldest entry goes first.
const clockToleranceSeconds = 30;
const maxCachedTokens = 1000;
const verifiedTokens = new Map();

function rememberVerified(token, claims) {
  if (verifiedTokens.size >= maxCachedTokens) verifiedTokens.delete(verifiedTokens.keys().next().value);
  verifiedTokens.set(token, claims);
}

export async function claimsFromAuthorization(authorization, secret, { anonRole = 'anon' } = {}) {
  if (!authorization) return { role: anonRole };
  const m = /^bearer\s*(.*)$/i.exec(authorization);
  if (!m) return { role: anonRole }; // PostgREST reads only Bearer tokens
  const token = m[1].trim();
  if (!token) throw new AuthError('PGRST301', 'Empty JWT is sent in Authorization header');
  if (token.split('.').length !== 3) {
    throw new AuthError('PGRST301', `Expected 3 parts in JWT; got ${token.split('.').length}`);
  }
  const cached = verifiedTokens.get(token);
  if (cached) {
    if (cached.exp === undefined || Date.now() / 1000 <= cached.exp + clockToleranceSeconds) return cached;
    verifiedTokens.delete(token);
    throw new AuthError('PGRST303', 'JWT expired');
  }
  try {
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], clockTolerance: clockToleranceSeconds });
    if (payload.role === undefined) payload.role = anonRole;
    if (typeof payload.role !== 'string') throw new AuthError('PGRST303', 'Invalid role claim');
    rememberVerified(token, Object.freeze(payload));
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
