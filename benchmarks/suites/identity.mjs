// Identity: the per-request cost of reading one's own profile through RLS.
import { asRequest } from '../harness.mjs';

export const name = 'identity';

const users = 10_000;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
}

// A request as PostgREST runs it: begin, role and claims, the call, commit —
// pipelined, so the figure is the server's work rather than loopback round trips.
export const cases = [
  {
    name: 'get_my_profile (as a user, RLS)',
    script: asRequest(`select public.get_my_profile();`, { users }),
  },
];
