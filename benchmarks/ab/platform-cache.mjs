// get_cache and set_cache against their function floors and bare floors
// (the platform suite's floor cases), as the suite calls them: server-side,
// the service role, a random one of 10,000 keys.
//   node benchmarks/ab.mjs benchmarks/ab/platform-cache.mjs
//   node benchmarks/ab-cpu.mjs benchmarks/ab/platform-cache.mjs   (server CPU per call)
import { cases as platform } from '../suites/platform.mjs';

export const suites = ['platform'];

const byName = new Map(platform.map((c) => [c.name, c]));
// a target case and the floor its `field` ('floor' or 'bare') names
const pair = (name, field) => [byName.get(name), byName.get(byName.get(name)[field])];

export const cases = [
  ...pair('get_cache (hit, server-side call)', 'floor'),
  ...pair('get_cache (hit, server-side call)', 'bare'),
  ...pair('set_cache (overwrite, TTL, server-side call)', 'floor'),
  ...pair('set_cache (overwrite, TTL, server-side call)', 'bare'),
];
