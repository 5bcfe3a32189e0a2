// What a function needs from its environment. Entries (index.ts) read it from
// Deno.env; vitest builds it directly. Names are the ones Supabase sets.
export interface FunctionEnv {
  /** The project's API URL (local: the gateway). */
  supabaseUrl: string;
  /** A low-privilege key: the publishable key, or the legacy anon JWT. */
  anonKey: string;
  /** The elevated key: the secret key, or the legacy service_role JWT. */
  serviceKey: string;
  /** Every secret key of the project (SUPABASE_SECRET_KEYS): a service caller sends one in `apikey`. */
  secretKeys: string[];
  /** SUPABASE_JWKS: the keys that verify users' JWTs (JSON), when Supabase provides it. */
  jwks?: string;
  /** Other variables (secrets from supabase/functions/.env or `supabase secrets set`). */
  vars: Record<string, string | undefined>;
}

function allKeys(dict: string | undefined): string[] {
  if (!dict) return [];
  try {
    return Object.values(JSON.parse(dict) as Record<string, unknown>).filter((v): v is string => typeof v === 'string' && v.length > 0);
  } catch {
    return [];
  }
}

function firstKey(dict: string | undefined): string | undefined {
  if (!dict) return undefined;
  try {
    const parsed = JSON.parse(dict) as Record<string, string>;
    return parsed.default ?? Object.values(parsed)[0];
  } catch {
    return undefined;
  }
}

/** Reads the environment Supabase gives functions (hosted, `functions serve` and the local stack). */
export function loadEnv(get: (name: string) => string | undefined): FunctionEnv {
  const supabaseUrl = get('SUPABASE_URL');
  const anonKey = firstKey(get('SUPABASE_PUBLISHABLE_KEYS')) ?? get('SUPABASE_ANON_KEY');
  const serviceKey = firstKey(get('SUPABASE_SECRET_KEYS')) ?? get('SUPABASE_SERVICE_ROLE_KEY');
  if (!supabaseUrl || !anonKey || !serviceKey) {
    throw new Error('SUPABASE_URL and the API keys must be set (Supabase sets them for every function)');
  }
  return {
    supabaseUrl,
    anonKey,
    serviceKey,
    secretKeys: allKeys(get('SUPABASE_SECRET_KEYS')),
    jwks: get('SUPABASE_JWKS') || undefined,
    vars: new Proxy({}, { get: (_t, k) => (typeof k === 'string' ? get(k) : undefined) }),
  };
}
