// A/B: private.track_event with the correlation-id lookup inline (as the hot
// writers track_event, record_metric and log_user_activity have it) against
// the same body calling private.current_correlation_id() instead, as the
// observability suite's server-side case calls it (no correlation id given,
// so the lookup runs on every call). Decides whether the three copies may
// become one call.
//   node benchmarks/ab.mjs benchmarks/ab/correlation_id.mjs
import { benchUserUuidOf, oldDefinitionsSetup, serviceSession } from '../harness.mjs';

const ref = process.env.AB_BEFORE ?? 'HEAD';
const file = 'supabase/migrations/20261122040100_metrics.sql';
// the call variant, in the scratch schema bench_old: the inline lookup (from
// its marker comment to the end of its outer if) removed, and its use a call
const rename = { 'private.track_event(': 'bench_old.track_event_writer(', 'public.track_event(': 'bench_old.track_event(' };
const inlineLookup = /\n  if p_correlation_id is null then\n    -- as private\.current_correlation_id\(\)\n[\s\S]*?\n  end if;\n/;
const inlineUse = /coalesce\(p_correlation_id,\s+case when v_setting ~\* '[^']+' then v_setting::uuid end\)/;
const callVariant = (sql) => {
  if (!inlineLookup.test(sql) || !inlineUse.test(sql)) {
    throw new Error(`private.track_event at ${ref} has no inline correlation-id lookup for this case to replace`);
  }
  return sql.replace(inlineLookup, '\n').replace(inlineUse, 'coalesce(p_correlation_id, private.current_correlation_id())');
};

export const suites = ['observability'];
export const setup = callVariant(oldDefinitionsSetup(ref, file, ['private.track_event', 'public.track_event'], rename));

const users = 10_000;
const call = (fn) => ({
  script: `\\set u random(1, ${users})\nselect ${fn}('page_view', p_session_id => 'bench', p_user_id => ${benchUserUuidOf('u')});\n`,
  session: serviceSession,
});

export const cases = [
  { name: 'track_event, lookup by a call (server-side, service role)', ...call('bench_old.track_event') },
  { name: 'track_event, lookup inline (server-side, service role)', ...call('public.track_event') },
];
