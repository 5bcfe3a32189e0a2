// The zod contract (shared/schemas) against the SQL: one check that both
// accept, or both refuse, the same arguments. The SQL refuses with
// invalid_parameter_value (22023); any other error fails the test.
import { expect } from 'vitest';
import type { z } from 'zod';
import { SqlState } from '../../shared/errors.ts';

/**
 * `select <fn>(k1 => $1, k2 => $2, ...)` for the named arguments in `args`, and
 * its parameters; the keys in `json` are sent as JSON text (jsonb arguments).
 */
export function namedCall(fn: string, args: Record<string, unknown>, json: Iterable<string> = []): { sql: string; params: unknown[] } {
  const jsonKeys = new Set(json);
  const keys = Object.keys(args);
  return {
    sql: `select ${fn}(${keys.map((k, i) => `${k} => $${i + 1}`).join(', ')})`,
    params: keys.map((k) => (jsonKeys.has(k) ? JSON.stringify(args[k]) : args[k])),
  };
}

/**
 * Whether the SQL accepted the call: true when it succeeds, false when it is
 * refused with one of `refusals` (22023 unless given).
 */
export function sqlAccepts(call: Promise<unknown>, refusals: string[] = [SqlState.invalidParameterValue]): Promise<boolean> {
  return call.then(
    () => true,
    (e) => {
      expect(refusals).toContain(e.code);
      return false;
    },
  );
}

/** The zod schema accepts `args` exactly when the SQL accepts `call` (the same arguments sent to the database). */
export async function expectZodAgreesWithSql(
  schema: z.ZodType, args: unknown, call: Promise<unknown>, message?: string, refusals?: string[],
): Promise<void> {
  const zodOk = schema.safeParse(args).success;
  const sqlOk = await sqlAccepts(call, refusals);
  expect(zodOk, message).toBe(sqlOk);
}
