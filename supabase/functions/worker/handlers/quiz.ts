// quiz/generation.requested: asks an OpenAI-compatible chat-completions API
// for a multiple-choice quiz, bills the call with record_usage (prices from
// public.model_config) and tells the user in-app.
//
// Credits: before the call, reserve_credits holds the call's worst case (every
// prompt character a token, every allowed output token used) under the
// user's daily and monthly caps, keyed by the job, so a user without credits
// left gets no model call; record_usage settles the hold at the real cost. A
// failed attempt leaves the hold to its TTL: the retry replays the same
// reservation.
//
// Where things end up: the quiz is the job's result (the user reads it with
// get_job / list_jobs) and is also in the in-app notification's data (the
// user's notifications list; a quiz over 12 KB is only in the job's result,
// notifications.data holding at most 16 KiB). Usage is a usage_logs row keyed
// by the job's idempotency key, so the user is charged once per job however
// often it runs. A retry that finds the notification returns the stored quiz
// without calling the model; a retry before it calls the model again (the
// lease ran out mid-run, or the answer was unusable) but is not charged again.
import { z } from 'zod';
import { dbFailure, findJobNotification, notifyInAppOnce } from './records.ts';
import { type JobHandler, type JobInput, permanent, providerFetch, requireEnv, retryable, type WorkerContext } from './types.ts';

export const quizPayload = z.object({
  topic: z.string().trim().min(1).max(500),
  question_count: z.number().int().min(1).max(20).default(5),
  difficulty: z.enum(['easy', 'medium', 'hard']).default('medium'),
  /** Text the questions must be drawn from (a lesson, a transcript). */
  source_text: z.string().max(20_000).optional(),
  /** A model_id of public.model_config (provider openai); default: the provider's default model. */
  model: z.string().min(1).max(100).optional(),
  /** Whom the quiz is for when the service role enqueued it (a user's own job carries its creator). */
  user_id: z.uuid().optional(),
});
export type QuizPayload = z.infer<typeof quizPayload>;

export const quizSchema = z.object({
  title: z.string().min(1).max(300),
  questions: z.array(z.object({
    question: z.string().min(1).max(1000),
    options: z.array(z.string().min(1).max(500)).min(2).max(6),
    answer_index: z.number().int().min(0),
    explanation: z.string().max(2000).optional(),
  }).refine((q) => q.answer_index < q.options.length, 'answer_index must point at one of the options')).min(1),
});
export type Quiz = z.infer<typeof quizSchema>;

const defaultApiUrl = 'https://api.openai.com/v1';
const provider = 'openai';

interface ModelRow { model_id: string }

/** The requested model if it is an active OpenAI one, else the provider's default. */
async function chooseModel(ctx: WorkerContext, requested: string | undefined): Promise<string> {
  let query = ctx.db.from('model_config').select('model_id').eq('provider', provider).eq('is_active', true);
  query = requested ? query.eq('model_id', requested) : query.eq('is_default', true);
  const { data, error } = await query.limit(1).maybeSingle();
  if (error) throw dbFailure('reading model_config', error);
  if (!data) {
    throw permanent(requested
      ? `model "${requested}" is not an active ${provider} model in public.model_config`
      : `public.model_config has no default ${provider} model`, 'unknown_model');
  }
  return (data as ModelRow).model_id;
}

function prompt(p: QuizPayload): { role: string; content: string }[] {
  const system = 'You write multiple-choice quizzes. Answer with one JSON object only: '
    + '{"title": string, "questions": [{"question": string, "options": [string, ...], "answer_index": number, "explanation": string}]}. '
    + 'answer_index is the 0-based index of the correct option; 2 to 6 options per question.';
  const user = [`Write a ${p.difficulty} quiz of ${p.question_count} questions about: ${p.topic}`,
    p.source_text ? `Draw the questions only from this text:\n${p.source_text}` : ''].filter(Boolean).join('\n\n');
  return [{ role: 'system', content: system }, { role: 'user', content: user }];
}

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }), finish_reason: z.string().nullish() })).min(1),
  usage: z.object({
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
    prompt_tokens_details: z.object({ cached_tokens: z.number().int().min(0).optional() }).nullish(),
    completion_tokens_details: z.object({ reasoning_tokens: z.number().int().min(0).optional() }).nullish(),
  }),
});
type Completion = z.infer<typeof completionSchema>;

const maxOutputTokens = (p: QuizPayload) => 400 * p.question_count + 200;

/** An upper bound of the prompt's tokens: a token is at least one character. */
const promptTokenBound = (p: QuizPayload) => prompt(p).reduce((n, m) => n + m.content.length, 0) + 50;

interface Reservation { allowed: boolean; reason?: string; reservation_id: string | null }

/** Holds the call's worst-case cost under the user's credit caps (replayed on a retry of the job). */
async function reserveCredits(ctx: WorkerContext, job: JobInput<QuizPayload>, userId: string, model: string): Promise<string> {
  const { data, error } = await ctx.db.rpc('reserve_credits', {
    p_user_id: userId, p_model: model, p_input_tokens: promptTokenBound(job.payload),
    p_max_output_tokens: maxOutputTokens(job.payload), p_idempotency_key: job.idempotencyKey, p_now: ctx.now().toISOString(),
  });
  if (error) throw dbFailure('reserving credits', error);
  const reservation = data as Reservation;
  if (!reservation.allowed || !reservation.reservation_id) {
    throw permanent(`not enough credits for this quiz (${reservation.reason ?? 'refused'})`, 'credit_limit');
  }
  return reservation.reservation_id;
}

async function complete(ctx: WorkerContext, model: string, p: QuizPayload, userId: string): Promise<Completion> {
  const apiKey = requireEnv(ctx, 'OPENAI_API_KEY');
  const base = (ctx.env('OPENAI_API_URL') || defaultApiUrl).replace(/\/+$/, '');
  const res = await providerFetch(ctx, `${base}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model, messages: prompt(p), response_format: { type: 'json_object' }, max_tokens: maxOutputTokens(p), user: userId,
    }),
  }, 'OpenAI');
  const parsed = completionSchema.safeParse(await res.json().catch(() => null));
  if (!parsed.success) throw retryable('OpenAI answered 200 without choices and usage', 'invalid_output');
  return parsed.data;
}

/** Bills the call: the same idempotency key records (and charges) once. */
async function recordUsage(ctx: WorkerContext, job: JobInput<QuizPayload>, userId: string, model: string, reservationId: string,
  usage: Completion['usage'], durationMs: number): Promise<{ id: string; total_cost: string | number }> {
  const { data, error } = await ctx.db.rpc('record_usage', {
    p_user_id: userId, p_model: model,
    p_input_tokens: usage.prompt_tokens, p_output_tokens: usage.completion_tokens,
    p_cached_input_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    p_reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
    p_agent_type: 'quiz_generation', p_duration_ms: Math.max(0, Math.round(durationMs)),
    p_metadata: { job_id: job.id, job_type: job.type }, p_idempotency_key: job.idempotencyKey,
    p_reservation_id: reservationId, p_now: ctx.now().toISOString(),
  });
  if (error) throw dbFailure('recording usage', error);
  return data as { id: string; total_cost: string | number };
}

function parseQuiz(content: string | null): Quiz {
  let json: unknown;
  try {
    json = JSON.parse(content ?? '');
  } catch {
    throw retryable('the model did not answer with JSON', 'invalid_output');
  }
  const quiz = quizSchema.safeParse(json);
  if (!quiz.success) throw retryable(`the model's quiz is malformed: ${quiz.error.issues[0]?.message}`, 'invalid_output');
  return quiz.data;
}

// notifications.data holds at most 16 KiB: a larger quiz is only in the job's result.
const maxQuizInNotification = 12_000;

function notificationCopy<R extends { quiz: Quiz }>(result: R): Omit<R, 'quiz'> & { quiz?: Quiz } {
  if (JSON.stringify(result.quiz).length <= maxQuizInNotification) return result;
  const { quiz: _left, ...rest } = result;
  return rest;
}

function ownerOf(job: JobInput<QuizPayload>): string {
  const userId = job.userId ?? job.payload.user_id;
  if (!userId) throw permanent('quiz job without a user: enqueue it as the user or set payload.user_id', 'invalid_payload');
  return userId;
}

export const quizHandler: JobHandler<QuizPayload> = {
  type: 'quiz/generation.requested',
  payload: quizPayload,
  async run(ctx, job) {
    const userId = ownerOf(job);
    const done = await findJobNotification(ctx, userId, job.idempotencyKey);
    const stored = done?.data.result as { quiz?: Quiz } | undefined;
    if (done && stored?.quiz) return { ...stored, notification_id: done.id };

    const model = await chooseModel(ctx, job.payload.model);
    requireEnv(ctx, 'OPENAI_API_KEY');
    const reservationId = await reserveCredits(ctx, job, userId, model);
    const started = Date.now();
    const completion = await complete(ctx, model, job.payload, userId);
    // Billed before the output is checked: the tokens were spent either way.
    const usage = await recordUsage(ctx, job, userId, model, reservationId, completion.usage, Date.now() - started);
    const quiz = parseQuiz(completion.choices[0]!.message.content);
    const result = { quiz, model, usage_log_id: usage.id, cost: Number(usage.total_cost) };
    const notification = await notifyInAppOnce(ctx, job.idempotencyKey, {
      userId, title: 'Your quiz is ready', body: `"${quiz.title}": ${quiz.questions.length} questions on ${job.payload.topic}.`,
      data: { kind: 'quiz.generated', job_id: job.id, result: notificationCopy(result) },
    });
    return { ...result, notification_id: notification.id };
  },
};
