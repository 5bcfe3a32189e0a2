-- Platform: the job and message queue. Enqueue, dedupe, claim with leases,
-- complete, fail with backoff, dead letters and requeue, cancel, metrics,
-- idempotent consumers, retention, and each role.
begin;
select plan(135);

select tests.create_supabase_user('q_alice');
select tests.create_supabase_user('q_bob');
select tests.create_supabase_user('q_admin', app_metadata => '{"role":"admin"}');
select tests.create_supabase_user('q_quota');
select tests.create_supabase_user('q_jobs');

select ok(exists (select 1 from cron.job where jobname = 'job-queue-cleanup' and command = 'select public.cleanup_old_job_queue_records()'),
  'old jobs are cleaned up by the pg_cron job job-queue-cleanup');
select is((select count(*)::int from private.job_types
            where job_type in ('video/upload.completed', 'quiz/generation.requested', 'email/send', 'analytics/daily.aggregate', 'membership/updated')),
  5, 'the seed''s five job types are registered');

-- ---------------------------------------------------------------------------
-- The worker's schedule: pg_cron -> pg_net -> the worker edge function
-- ---------------------------------------------------------------------------
select ok(exists (select 1 from pg_extension where extname = 'pg_net')
          or not exists (select 1 from cron.job where jobname = 'worker'),
  'no worker schedule where pg_net cannot run it (the migration raised a NOTICE instead)');
select throws_like(
  $$select private.invoke_worker()$$,
  case when exists (select 1 from pg_extension where extname = 'pg_net') then '%Vault secrets project_url and worker_secret_key%'
       else '%pg_net is not enabled%' end,
  'invoking the worker from the database without pg_net or its secrets refuses, saying what is missing');
select ok(not has_function_privilege('service_role', 'private.invoke_worker(jsonb)', 'execute'),
  'the service role cannot make the database call the worker');
select ok(not has_function_privilege('authenticated', 'private.invoke_worker(jsonb)', 'execute'),
  'signed-in users cannot make the database call the worker');
select ok(not has_function_privilege('anon', 'private.invoke_worker(jsonb)', 'execute'),
  'anon cannot make the database call the worker');
select ok((select p.prosecdef from pg_proc p where p.oid = 'private.invoke_worker(jsonb)'::regprocedure),
  'invoke_worker reads Vault as its owner (security definer), for pg_cron');
insert into public.system_metrics (service_name, metric_type, metric_name, value, unit, tags, recorded_at)
values ('worker', 'latency', 'worker.run', 1234, 'ms', '{"outcome": "failures"}', now() + interval '1 minute');
select is(public.health_check() -> 'queue' ->> 'worker_last_outcome', 'failures',
  'the health check shows the outcome of the worker''s last run (its worker.run metric)');
select is((public.health_check() -> 'queue' ->> 'worker_last_run_ms')::numeric, 1234::numeric,
  '... and how long it took');


-- ---------------------------------------------------------------------------
-- Service role: queues and enqueue
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select lives_ok($$select public.create_queue('t-work', 'test queue', p_max_attempts => 3, p_lease_seconds => 60,
                                             p_backoff_base_seconds => 10, p_backoff_max_seconds => 100)$$,
  'create_queue creates a named queue');
select throws_ok($$select public.create_queue('Bad Name')$$, '22023',
  'invalid queue name: 1 to 63 of a-z 0-9 _ . : / -, starting with a letter or digit', 'a bad queue name is refused');
select throws_ok($$select public.create_queue('t-bad', p_lease_seconds => 0)$$, '22023',
  'invalid queue settings: attempts 1-100, lease 1-86400 s, backoff base > 0 and max >= base (at most a year), retention 1 hour to 10 years',
  'bad queue settings are refused');
select ok(not exists (select 1 from private.job_queues where name = 't-bad'), '... and create nothing');
select throws_ok($$select public.create_queue('t-bad', p_backoff_base_seconds => 'NaN')$$, '22023',
  'invalid backoff base: must be a finite number', 'a NaN backoff (it passes "> 0") is refused');
select throws_ok($$select public.create_queue('t-bad', p_backoff_max_seconds => 'Infinity')$$, '22023',
  'invalid backoff max: must be a finite number', 'an infinite backoff cap is refused');
select throws_ok($$select public.create_queue('t-bad', p_retention => interval '1000 years')$$, '22023',
  'invalid queue settings: attempts 1-100, lease 1-86400 s, backoff base > 0 and max >= base (at most a year), retention 1 hour to 10 years',
  'a retention the cleanup could not subtract from now is refused');

-- Times: an injected clock within a century of now, a run time within 10 years of it.
select throws_ok($$select public.enqueue_job('t-work', '{}', p_run_at => '-infinity')$$, '22023', null,
  'enqueue_job refuses a run time of -infinity (it would sort ahead of every job)');
select throws_ok($$select public.enqueue_job('t-work', '{}', p_run_at => now() + interval '11 years')$$, '22023', null,
  '... and one more than 10 years away');
select throws_ok($$select public.enqueue_job('t-work', '{}', p_now => 'infinity')$$, '22023', null, '... and an infinite clock');
select throws_ok($$select public.schedule_job('email/send', p_run_at => 'infinity')$$, '22023', null,
  'schedule_job refuses an infinite run time from the service role too');


select tests.remember('low', id) from public.enqueue_job('t-work', '{"n":1}', p_priority => 0, p_now => '2026-01-01 00:00+00');
select tests.remember('high', id) from public.enqueue_job('t-work', '{"n":2}', p_priority => 10, p_now => '2026-01-01 00:00+00');
select tests.remember('later', id) from public.enqueue_job('t-work', '{"n":3}', p_delay_seconds => 3600, p_now => '2026-01-01 00:00+00');
select tests.remember('dedupe', id) from public.enqueue_job('t-work', '{"n":4}', p_dedupe_key => 'order-42', p_now => '2026-01-01 00:00+00');

select is((select status from public.job_queue where id = tests.bigint_id('low')), 'queued', 'enqueue_job queues a job');
select is((select max_attempts from public.job_queue where id = tests.bigint_id('low')), 3, '... with the queue''s max attempts');
select is((select job_type from public.job_queue where id = tests.bigint_id('low')), 't-work', '... and the queue name as job type by default');
select is((select run_at from public.job_queue where id = tests.bigint_id('later')), '2026-01-01 01:00+00'::timestamptz,
  'p_delay_seconds sets run_at');
select is((public.enqueue_job('t-work', '{"n":5}', p_dedupe_key => 'order-42')).id, tests.bigint_id('dedupe'),
  'the same dedupe key returns the job already queued');
select is((select count(*)::int from public.job_queue where queue_name = 't-work' and dedupe_key = 'order-42'), 1, '... and queues nothing more');
select is((select payload from public.job_queue where id = tests.bigint_id('dedupe')), '{"n":4}'::jsonb, '... nor changes it');

select throws_ok($$select public.enqueue_job('t-nowhere', '{}')$$, 'PT404', 'unknown queue: t-nowhere', 'an unknown queue is refused');
select throws_ok($$select public.enqueue_job('t-work', '[1]')$$, '22023', 'invalid payload: must be a JSON object', 'a non-object payload is refused');
select throws_ok($$select public.enqueue_job('t-work', '{}', p_priority => 5000)$$, '22023',
  'invalid priority: must be between -1000 and 1000 (higher runs first)', 'an out-of-range priority is refused');
select throws_ok($$select public.enqueue_job('t-work', '{}', p_max_attempts => 0)$$, '22023',
  'invalid max attempts: must be between 1 and 100', 'zero attempts is refused');
select throws_ok($$select public.enqueue_job('t-work', '{}', p_delay_seconds => -1)$$, '22023',
  'invalid delay: p_delay_seconds must be >= 0 and not combined with p_run_at', 'a negative delay is refused');
select throws_ok($$select public.enqueue_job('t-work', '{}', p_job_type => 'Not A Type')$$, '22023',
  'invalid job type: 1 to 100 of a-z 0-9 _ . : / -', 'a malformed job type is refused');
select is((select count(*)::int from public.job_queue where queue_name = 't-work'), 4, 'rejected enqueues added nothing');

-- ---------------------------------------------------------------------------
-- Claim, complete
-- ---------------------------------------------------------------------------
select is(array(select id from public.claim_jobs('t-work', 'w1', 2, p_now => '2026-01-01 00:00+00') order by priority desc, id),
  array[tests.bigint_id('high'), tests.bigint_id('low')],
  'claim_jobs hands out ready jobs, highest priority first, up to the limit');
select is((select status || '/' || attempts || '/' || locked_by from public.job_queue where id = tests.bigint_id('high')),
  'active/1/w1', '... leased to the worker, attempt counted');
select is((select locked_until from public.job_queue where id = tests.bigint_id('high')), '2026-01-01 00:01+00'::timestamptz,
  '... for the queue''s lease');
select is(array(select id from public.claim_jobs('t-work', 'w2', 10, p_now => '2026-01-01 00:00+00')),
  array[tests.bigint_id('dedupe')], 'a second worker gets only what is left (the delayed job is not ready)');
select is((select count(*)::int from public.claim_jobs('t-work', 'w3', 10, p_now => '2026-01-01 00:00+00')), 0, 'an empty queue gives nothing');

select is((public.complete_job(tests.bigint_id('high'), 'w1', '{"ok":true}', '2026-01-01 00:00:30+00')).status, 'completed',
  'complete_job completes a job');
select is((select result from public.job_queue where id = tests.bigint_id('high')), '{"ok":true}'::jsonb, '... with its result');
select throws_ok(format($$select public.complete_job(%s, 'w1')$$, tests.bigint_id('high')), 'PT409',
  format('job %s is not leased to worker w1', tests.bigint_id('high')), 'completing twice is a conflict');
select throws_ok(format($$select public.complete_job(%s, 'w9')$$, tests.bigint_id('low')), 'PT409',
  format('job %s is not leased to worker w9', tests.bigint_id('low')), 'another worker cannot complete a job it does not hold');
select throws_ok($$select public.complete_job(-1, 'w1')$$, 'PT404', 'job -1 not found', 'completing a missing job is 404');

select is((public.extend_job_lease(tests.bigint_id('low'), 'w1', 600, '2026-01-01 00:00:50+00')).locked_until,
  '2026-01-01 00:10:50+00'::timestamptz, 'extend_job_lease moves the lease on');

-- ---------------------------------------------------------------------------
-- Fail, backoff, dead letters, requeue
-- ---------------------------------------------------------------------------
select is((public.fail_job(tests.bigint_id('low'), 'w1', 'timeout', p_now => '2026-01-01 00:01+00')).status, 'queued',
  'a failed attempt with attempts left goes back to the queue');
select ok((select run_at between '2026-01-01 00:01:05+00' and '2026-01-01 00:01:10+00' from public.job_queue where id = tests.bigint_id('low')),
  '... after the backoff for attempt 1: base 10 s with equal jitter, 5 to 10 s');
select is((select errors -> 0 ->> 'error' from public.job_queue where id = tests.bigint_id('low')), 'timeout', '... the error is recorded');
select is((select count(*)::int from public.claim_jobs('t-work', 'w1', 10, p_now => '2026-01-01 00:01:04+00') where id = tests.bigint_id('low')),
  0, 'a job waiting out its backoff is not handed out');
select is((select attempts from public.claim_jobs('t-work', 'w1', 10, p_now => '2026-01-01 00:01:11+00') where id = tests.bigint_id('low')),
  2, 'after the backoff it is claimed again (attempt 2)');
select public.fail_job(tests.bigint_id('low'), 'w1', 'timeout again', p_now => '2026-01-01 00:02+00');
select ok((select run_at between '2026-01-01 00:02:10+00' and '2026-01-01 00:02:20+00' from public.job_queue where id = tests.bigint_id('low')),
  'the backoff doubles (attempt 2: 10 to 20 s)');
select public.claim_jobs('t-work', 'w1', 10, p_now => '2026-01-01 00:03+00');
select is((public.fail_job(tests.bigint_id('low'), 'w1', 'still failing', p_now => '2026-01-01 00:03:10+00')).status, 'dead',
  'the last attempt''s failure sends the job to the dead letters');
select is((select jsonb_array_length(errors) from public.job_queue where id = tests.bigint_id('low')), 3, '... with every attempt''s error');

-- (its first lease ran out meanwhile, so the claims above handed it to w1)
select is((public.fail_job(tests.bigint_id('dedupe'), 'w1', 'bad payload', false, p_now => '2026-01-01 00:04+00')).status, 'dead',
  'a non-retryable failure is dead at once');

select is(public.get_queue_metrics('t-work', '2026-01-01 00:05+00'),
  '[{"queue":"t-work","ready":0,"scheduled":1,"retrying":0,"in_flight":0,"lease_expired":0,"dead":2,"completed":1,"cancelled":0,"oldest_ready_age_seconds":0}]'::jsonb,
  'get_queue_metrics counts each state: one scheduled, two dead letters, one completed');
select is(public.get_queue_metrics('t-work', '2026-01-01 01:30+00') -> 0 -> 'ready', '1'::jsonb, 'a scheduled job becomes ready at its run_at ...');
select is(public.get_queue_metrics('t-work', '2026-01-01 01:30+00') -> 0 -> 'oldest_ready_age_seconds', '1800'::jsonb, '... and its wait is measured from then');
select throws_ok($$select public.get_queue_metrics('t-nowhere')$$, 'PT404', 'unknown queue: t-nowhere', 'metrics of an unknown queue are 404');
select throws_ok($$select public.get_queue_metrics('t-work', 'infinity')$$, '22023', null, 'metrics refuse an infinite clock');
select throws_ok($$select public.claim_jobs('t-work', 'w', 1, p_now => '-infinity')$$, '22023', null, 'claim_jobs refuses an infinite clock');
select throws_ok($$select public.cleanup_old_job_queue_records('infinity')$$, '22023', null,
  'the cleanup refuses an infinite clock (it would delete every finished job at once)');
select throws_ok($$select public.requeue_dead_jobs('t-work', 'infinity')$$, '22023', null, 'requeue_dead_jobs refuses an infinite clock');
-- Whatever a row holds, the metrics are numbers: an infinite time cannot be
-- stored, and an extreme finite one gives a clamped age, not 22008.
select tests.reset_role();
select throws_ok($$insert into private.jobs (queue_name, job_type, max_attempts, run_at) values ('t-work', 't-work', 1, '-infinity')$$,
  '23514', null, 'the jobs table refuses an infinite run time, whoever writes it');
select public.create_queue('t-extreme');
insert into private.jobs (queue_name, job_type, max_attempts, run_at) values ('t-extreme', 't-extreme', 1, '0001-01-01 00:00+00');
select tests.authenticate_as_service_role();
select is(public.get_queue_metrics('t-extreme', '2026-01-01 00:00+00') -> 0 -> 'oldest_ready_age_seconds',
  to_jsonb(extract(epoch from interval '100 years')), 'an extreme stored run time gives an age clamped to a century');
select is(jsonb_array_length(public.get_queue_metrics()), (select count(*)::int from private.job_queues),
  'metrics of every queue still answer');
select is((public.requeue_job(tests.bigint_id('low'), '2026-01-01 00:06+00')).status, 'queued', 'requeue_job brings a dead job back');
select is((select attempts from public.job_queue where id = tests.bigint_id('low')), 0, '... with its attempts reset');
select is(public.requeue_dead_jobs('t-work', '2026-01-01 00:06+00'), 1, 'requeue_dead_jobs redrives the rest of the dead letters');
select throws_ok(format($$select public.requeue_job(%s)$$, tests.bigint_id('high')), 'PT409',
  format('job %s is completed, only dead or cancelled jobs can be requeued', tests.bigint_id('high')),
  'a completed job cannot be requeued');
select throws_ok($$select public.fail_job(-1, 'w1', 'x')$$, 'PT404', 'job -1 not found', 'failing a missing job is 404');
select throws_ok(format($$select public.fail_job(%s, 'w1', '')$$, tests.bigint_id('low')), '22023',
  'invalid error: describe what went wrong', 'a failure needs an error text');

-- ---------------------------------------------------------------------------
-- Leases: a crashed worker's job comes back
-- ---------------------------------------------------------------------------
select is((select count(*)::int from public.claim_jobs('t-work', 'crashy', 10, p_now => '2026-01-01 00:10+00')), 2,
  'a worker takes the two requeued jobs, then crashes');
select is((select count(*)::int from public.claim_jobs('t-work', 'w5', 10, p_now => '2026-01-01 00:10:59+00')), 0,
  'while their leases run, nobody else gets them');
select is((select count(*)::int from public.claim_jobs('t-work', 'w5', 10, p_now => '2026-01-01 00:11+00')), 2,
  'once the leases have expired, the next claim gets them');
select ok((select bool_and(last_error = 'lease expired: worker crashy did not finish') from public.job_queue
            where id in (tests.bigint_id('low'), tests.bigint_id('dedupe'))), '... recording why');
select throws_ok(format($$select public.complete_job(%s, 'crashy')$$, tests.bigint_id('low')), 'PT409', null,
  'the crashed worker can no longer complete it');
update private.jobs set attempts = max_attempts where id = tests.bigint_id('low');
select is((select count(*)::int from public.claim_jobs('t-work', 'w6', 10, p_now => '2026-01-01 00:30+00') where id = tests.bigint_id('low')),
  0, 'a lease that expires on the last attempt ...');
select is((select status from public.job_queue where id = tests.bigint_id('low')), 'dead', '... sends the job to the dead letters');

-- ---------------------------------------------------------------------------
-- Claim validation
-- ---------------------------------------------------------------------------
select throws_ok($$select * from public.claim_jobs('t-work', '', 1)$$, '22023', 'invalid worker id: must be 1 to 200 characters', 'a worker id is required');
select throws_ok($$select * from public.claim_jobs('t-work', 'w', 0)$$, '22023', 'invalid limit: must be between 1 and 1000', 'a zero limit is refused');
select throws_ok($$select * from public.claim_jobs('t-nowhere', 'w', 1)$$, 'PT404', 'unknown queue: t-nowhere', 'claiming from an unknown queue is 404');

-- ---------------------------------------------------------------------------
-- Idempotent consumers and retention
-- ---------------------------------------------------------------------------
select is(public.mark_message_processed('billing-projector', 'evt-1'), true, 'mark_message_processed: true the first time');
select is(public.mark_message_processed('billing-projector', 'evt-1'), false, '... false on redelivery');
select is(public.mark_message_processed('mail-sender', 'evt-1'), true, '... per consumer');
select throws_ok($$select public.mark_message_processed('', 'x')$$, '22023', 'invalid consumer: must be 1 to 200 characters', 'a consumer name is required');

select ok(public.cleanup_old_job_queue_records(now() + interval '31 days') >= 3,
  'cleanup_old_job_queue_records deletes finished jobs and idempotency keys past retention');
select ok(not exists (select 1 from public.job_queue where id = tests.bigint_id('high')), '... the completed job is gone');
select ok(exists (select 1 from public.job_queue where id = tests.bigint_id('later')), '... the queued one stays');

-- ---------------------------------------------------------------------------
-- schedule_job (seed 004) for the service role
-- ---------------------------------------------------------------------------
select is((public.schedule_job('email/send', 'Welcome mail', '{"to":"a@example.com"}')).queue_name, 'email',
  'schedule_job routes a job type to its queue');
select is((public.schedule_job('payment_processing', 'Process Payment', '{"amount":5000}')).queue_name, 'default',
  'an unregistered job type goes to the default queue');
select is((public.schedule_job('analytics/daily.aggregate', p_dedupe_key => 'daily:2026-01-01')).id,
          (public.schedule_job('analytics/daily.aggregate', p_dedupe_key => 'daily:2026-01-01')).id,
  'a dedupe key makes a repeated schedule (a cron fire twice) one job');
select is((public.schedule_job('membership/updated', p_payload => '{"user":"u1"}')).max_attempts, 10, 'the job type''s max attempts apply');

-- ---------------------------------------------------------------------------
-- Users: only the job types open to them, only their own jobs
-- ---------------------------------------------------------------------------
select tests.authenticate_as('q_alice');
select tests.remember('alice', id) from public.schedule_job('quiz/generation.requested', 'Quiz', '{"video":"v1"}', p_dedupe_key => 'quiz-v1');
select is((select created_by from public.get_job(tests.bigint_id('alice'))), tests.get_supabase_uid('q_alice'),
  'a user schedules an allowed job type, recorded as theirs');
select is((select dedupe_key from public.get_job(tests.bigint_id('alice'))), 'user:' || tests.get_supabase_uid('q_alice') || ':quiz-v1',
  'a user''s dedupe key is namespaced by their id');
select throws_ok($$select public.schedule_job('email/send', 'spam', '{"to":"x@example.com"}')$$, '42501',
  'job type email/send may not be scheduled by users', 'a user cannot schedule a server-only job type');
select throws_ok($$select public.schedule_job('made/up', 'x', '{}')$$, '42501',
  'job type made/up may not be scheduled by users', 'nor an unknown one');
select throws_ok($$select public.schedule_job('quiz/generation.requested', 'x', '{}', p_priority => 100)$$, '42501',
  'only the service role may set p_priority or p_max_attempts', 'a user cannot jump the queue');
select throws_ok($$select public.schedule_job('quiz/generation.requested', 'x', jsonb_build_object('blob', repeat('x', 70000)))$$, '22023',
  'invalid payload: at most 65536 bytes', 'a user''s payload is limited to 64 KiB');
select throws_ok($$select public.schedule_job('video/upload.completed', 'x', '{}', p_run_at => '-infinity')$$, '22023', null,
  'a user cannot schedule at -infinity (ahead of everyone''s jobs)');
select throws_ok($$select public.schedule_job('video/upload.completed', 'x', '{}', p_run_at => now() - interval '1 hour')$$, '22023', null,
  'nor an hour in the past (more than the 5-minute skew)');
select throws_ok($$select public.schedule_job('video/upload.completed', 'x', '{}', p_run_at => now() + interval '2 years')$$, '22023', null,
  'nor more than a year ahead');
select is((public.schedule_job('video/upload.completed', 'x', '{}', p_run_at => now() + interval '1 day')).run_at, now() + interval '1 day',
  'a run time within the window is kept');
select is((select count(*)::int from public.list_jobs()), 2, 'list_jobs shows a user only their own jobs');
select throws_ok($$select public.claim_jobs('quiz', 'me', 1)$$, '42501', null, 'a user cannot claim jobs');
select throws_ok($$select public.enqueue_job('ai', '{}')$$, '42501', null, 'a user cannot use enqueue_job');
select throws_ok($$select public.get_queue_metrics()$$, '42501', null, 'a user cannot read queue metrics');
select throws_ok($$select * from public.job_queue$$, '42501', null, 'a user cannot read the job_queue view');
select throws_ok($$select * from private.jobs$$, '42501', null, 'a user cannot read the jobs table');

select tests.authenticate_as('q_bob');
select is((select count(*)::int from public.list_jobs()), 0, 'another user sees none of them');
select throws_ok($$insert into private.jobs (queue_name, job_type, max_attempts) values ('ai', 'quiz/generation.requested', 1)$$, '42501', null,
  'a user cannot write the jobs table');
select throws_ok(format($$select public.get_job(%s)$$, tests.bigint_id('alice')), 'PT404',
  format('job %s not found', tests.bigint_id('alice')), 'another user''s job is not found');
select throws_ok(format($$select public.cancel_job(%s)$$, tests.bigint_id('alice')), 'PT404', null,
  'another user cannot cancel it');
select isnt((public.schedule_job('quiz/generation.requested', 'Quiz', '{"video":"v1"}', p_dedupe_key => 'quiz-v1')).id,
  tests.bigint_id('alice'), 'the same dedupe key from another user is another job');

select tests.authenticate_as('q_admin');
select is((public.get_job(tests.bigint_id('alice'))).id, tests.bigint_id('alice'), 'an admin reads any job');
select cmp_ok((select count(*)::int from public.list_jobs(p_queue => 'ai')), '>=', 2, 'an admin lists every user''s jobs');
select throws_ok($$select public.schedule_job('email/send', 'x', '{}')$$, '42501', 'job type email/send may not be scheduled by users',
  'an admin schedules like a user');
select throws_ok($$select public.list_jobs(p_status => 'sleeping')$$, '22023', 'invalid status: one of queued, active, completed, dead, cancelled',
  'list_jobs refuses an unknown status');

select tests.authenticate_as('q_alice');
select is((public.cancel_job(tests.bigint_id('alice'))).status, 'cancelled', 'a user cancels their own queued job');
select throws_ok(format($$select public.cancel_job(%s)$$, tests.bigint_id('alice')), 'PT409',
  format('job %s is cancelled and can no longer be cancelled', tests.bigint_id('alice')), 'cancelling twice is a conflict');
select isnt((public.schedule_job('quiz/generation.requested', 'Quiz', '{"video":"v1"}', p_dedupe_key => 'quiz-v1')).id,
  tests.bigint_id('alice'), 'a cancelled job''s dedupe key is free again');

select tests.authenticate_as_service_role();
select public.claim_jobs('t-work', 'w7', 1, p_now => '2026-01-02 00:00+00');
select is((public.cancel_job((select id from public.job_queue where queue_name = 't-work' and status = 'active' limit 1))).status, 'cancelled',
  'the service role can cancel a running job');

-- Quotas: a basic user's plan allows 3 quiz generations and 5 video jobs an
-- hour, and 60 jobs of any type; each refusal is PT429 (HTTP 429).
select tests.authenticate_as('q_quota');
set local app.usage_now = '2026-03-12 11:00:00+00';
select lives_ok($$select public.schedule_job('quiz/generation.requested', 'Quiz', '{}') from generate_series(1, 3)$$,
  'a basic user schedules 3 quiz generations in an hour');
select throws_ok($$select public.schedule_job('quiz/generation.requested', 'Quiz', '{}')$$, 'PT429', null, 'the 4th is refused');
select throws_ok($$select public.schedule_job('quiz/generation.requested', 'Quiz', '{}', p_dedupe_key => 'new-key')$$, 'PT429', null,
  '... whatever its dedupe key');
select lives_ok($$select public.schedule_job('video/upload.completed', 'Video', '{}') from generate_series(1, 5)$$,
  'video jobs have their own allowance: 5 an hour');
select throws_ok($$select public.schedule_job('video/upload.completed', 'Video', '{}')$$, 'PT429', null, 'the 6th is refused');
select is((select count(*)::int from public.list_jobs()), 8, 'only the allowed jobs were queued');
select tests.reset_role();
insert into private.job_types (job_type, queue_name, description, user_may_enqueue) values ('t/user-type', 'default', 'test', true);
select tests.authenticate_as('q_jobs');
select lives_ok($$select public.schedule_job('t/user-type', 'x', '{}') from generate_series(1, 60)$$,
  'a type without a feature quota: 60 jobs an hour (the jobs quota) ...');
select throws_ok($$select public.schedule_job('t/user-type', 'x', '{}')$$, 'PT429', null, '... then PT429');
select throws_ok($$select public.schedule_job('quiz/generation.requested', 'x', '{}')$$, 'PT429', null,
  'the jobs quota bounds every type, quiz generation included');
select tests.authenticate_as_service_role();
select lives_ok($$select public.schedule_job('t/user-type', 'x', '{}') from generate_series(1, 100)$$, 'the service role is not limited');
reset app.usage_now;

select tests.clear_authentication();
select throws_ok($$select public.schedule_job('quiz/generation.requested', 'x', '{}')$$, '42501', null, 'anon cannot schedule jobs');
select throws_ok($$select public.list_jobs()$$, '42501', null, 'anon cannot list jobs');
select throws_ok($$select public.mark_message_processed('c', 'k')$$, '42501', null, 'anon cannot use the inbox');

select * from finish();
rollback;
