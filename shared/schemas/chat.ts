// The chat RPC contract (supabase/migrations/*_chat.sql) as zod schemas:
// validate before calling, parse what comes back. The limits mirror the SQL
// checks; tests/chat.test.ts proves both sides agree. docs/chat.md lists them.
import { z } from 'zod';

const jsonObject = z.record(z.string(), z.unknown());
/** Serialized size as Postgres measures jsonb is close to the JSON text size; we check the text. */
const maxJsonBytes = (max: number) => (v: unknown) => new TextEncoder().encode(JSON.stringify(v)).length <= max;

export const conversationTitle = z
  .string()
  .refine((s) => {
    const n = [...s.trim()].length;
    return n >= 1 && n <= 200;
  }, 'invalid title: must be 1 to 200 characters');
export const visibility = z.enum(['private', 'public']);
export const temperature = z
  .number()
  .min(0, 'invalid temperature: must be between 0 and 2')
  .max(2, 'invalid temperature: must be between 0 and 2');
export const positiveInt = (field: string) =>
  z.number().int().positive(`invalid ${field}: must be a positive integer`).max(2147483647);
export const metadata = jsonObject.refine(maxJsonBytes(16384), 'invalid metadata: must be a JSON object of at most 16 KiB');

const conversationSettings = {
  p_model_name: z.string().max(100, 'invalid model name: at most 100 characters').optional(),
  p_system_prompt: z.string().max(100000, 'invalid system prompt: at most 100000 characters').optional(),
  p_temperature: temperature.optional(),
  p_max_tokens: positiveInt('max_tokens').optional(),
  p_context_length: positiveInt('context_length').optional(),
  p_metadata: metadata.optional(),
  p_visibility: visibility.optional(),
};

/** Arguments of `create_conversation` (seed 000 createConversation; seed 002 saveChat's id and visibility). */
export const createConversationArgs = z
  .object({ p_title: conversationTitle, ...conversationSettings, p_id: z.uuid().optional() })
  .strict();

/** Arguments of `update_conversation`; omitted fields stay as they are, '' clears model name or system prompt. */
export const updateConversationArgs = z
  .object({
    p_id: z.uuid(),
    p_title: conversationTitle.optional(),
    ...conversationSettings,
    p_last_context: jsonObject.refine(maxJsonBytes(65536), 'invalid last context: must be a JSON object of at most 64 KiB').optional(),
  })
  .strict();

/** Arguments of `list_conversations`: offset paging (seed 000) or the keyset cursor (both cursor fields or neither). */
export const listConversationsArgs = z
  .object({
    p_include_archived: z.boolean().optional(),
    p_limit: z.number().int().min(1).max(100).optional(),
    p_offset: z.number().int().min(0).optional(),
    p_before_updated_at: z.string().optional(),
    p_before_id: z.uuid().optional(),
  })
  .strict()
  .refine((a) => (a.p_before_updated_at === undefined) === (a.p_before_id === undefined), {
    message: 'invalid cursor: give both p_before_updated_at and p_before_id, or neither',
  });

export const messageRole = z.enum(['user', 'assistant', 'system', 'tool']);
export const messageStatus = z.enum(['pending', 'success', 'error', 'aborted']);
/** AI SDK message parts: objects that each have a string `type`. */
export const messagePart = z.looseObject({ type: z.string() });
const parts = z.array(messagePart).refine(maxJsonBytes(2097152), 'invalid parts: at most 2 MiB');

/** Arguments of `create_message` (seed 000 createMessage + seed 002 parts, attachments, annotations). */
export const createMessageArgs = z
  .object({
    p_conversation_id: z.uuid(),
    p_content: z.string().max(1000000, 'invalid content: at most 1000000 characters').optional(),
    p_role: messageRole.optional(),
    p_metadata: metadata.optional(),
    p_status: messageStatus.optional(),
    p_tool_calls: z.array(z.unknown()).max(128).optional(),
    p_tool_call_id: z.string().min(1).max(200).optional(),
    p_tool_name: z.string().min(1).max(200).optional(),
    p_parts: parts.optional(),
    p_attachments: z.array(z.unknown()).max(100).optional(),
    p_model_used: z.string().min(1).max(100).optional(),
    p_input_tokens: z.number().int().min(0).optional(),
    p_output_tokens: z.number().int().min(0).optional(),
    p_cost: z.number().min(0).optional(),
    p_id: z.uuid().optional(),
  })
  .strict()
  .refine((a) => a.p_role !== 'tool' || a.p_tool_call_id !== undefined, {
    message: 'invalid tool message: p_tool_call_id is required when the role is tool',
  })
  .refine(
    (a) =>
      (a.p_content ?? '') !== '' ||
      (a.p_parts ?? []).length > 0 ||
      (a.p_tool_calls ?? []).length > 0,
    { message: 'invalid message: content or parts is required' },
  );

/** Arguments of `list_messages`: the latest p_limit, or those just before message p_before. */
export const listMessagesArgs = z
  .object({ p_conversation_id: z.uuid(), p_limit: z.number().int().min(1).max(200).optional(), p_before: z.uuid().optional() })
  .strict();

/** Arguments of `update_message`; omitted fields stay as they are. */
export const updateMessageArgs = z
  .object({
    p_id: z.uuid(),
    p_content: z.string().max(1000000).optional(),
    p_metadata: metadata.optional(),
    p_status: messageStatus.optional(),
    p_parts: parts.optional(),
    p_model_used: z.string().min(1).max(100).optional(),
    p_input_tokens: z.number().int().min(0).optional(),
    p_output_tokens: z.number().int().min(0).optional(),
    p_cost: z.number().min(0).optional(),
  })
  .strict();

export const voteMessageArgs = z.object({ p_message_id: z.uuid(), p_type: z.enum(['up', 'down']) }).strict();

export const documentKind = z.enum(['text', 'code', 'mermaid', 'sheet', 'python code', 'mermaid code']);

/** Arguments of `save_document`: a new document (no p_id) or the next version of one. */
export const saveDocumentArgs = z
  .object({
    p_title: conversationTitle,
    p_content: z.string().max(1000000, 'invalid content: at most 1000000 characters').optional(),
    p_kind: documentKind.optional(),
    p_id: z.uuid().optional(),
    p_conversation_id: z.uuid().optional(),
    p_metadata: metadata.optional(),
    p_expected_version: z.number().int().min(0).optional(),
  })
  .strict();

export const suggestionInput = z.object({
  original_text: z.string().min(1).max(20000),
  suggested_text: z.string().max(20000),
  description: z.string().max(2000).nullable().optional(),
});

export const createSuggestionsArgs = z
  .object({
    p_document_id: z.uuid(),
    p_suggestions: z.array(suggestionInput).min(1).max(100),
    p_document_version: z.number().int().positive().optional(),
  })
  .strict();

/** A row of `public.conversations`. */
export const conversation = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  title: z.string(),
  visibility,
  model_name: z.string().nullable(),
  system_prompt: z.string().nullable(),
  temperature: z.number().nullable(),
  max_tokens: z.number().int().nullable(),
  context_length: z.number().int().nullable(),
  is_archived: z.boolean(),
  message_count: z.number().int(),
  total_input_tokens: z.number().int(),
  total_output_tokens: z.number().int(),
  total_cost: z.number(),
  last_context: jsonObject.nullable(),
  metadata: jsonObject,
  created_at: z.string(),
  updated_at: z.string(),
  last_message_at: z.string().nullable(),
});

/** A row of `public.messages`. */
export const message = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  user_id: z.uuid(),
  role: messageRole,
  content: z.string(),
  parts: z.array(messagePart),
  attachments: z.array(z.unknown()),
  tool_calls: z.array(z.unknown()).nullable(),
  tool_call_id: z.string().nullable(),
  tool_name: z.string().nullable(),
  status: messageStatus,
  model_used: z.string().nullable(),
  input_tokens: z.number().int().nullable(),
  output_tokens: z.number().int().nullable(),
  cost: z.number().nullable(),
  metadata: jsonObject,
  created_at: z.string(),
  updated_at: z.string(),
});

export type CreateConversationArgs = z.infer<typeof createConversationArgs>;
export type UpdateConversationArgs = z.infer<typeof updateConversationArgs>;
export type ListConversationsArgs = z.infer<typeof listConversationsArgs>;
export type CreateMessageArgs = z.infer<typeof createMessageArgs>;
export type ListMessagesArgs = z.infer<typeof listMessagesArgs>;
export type UpdateMessageArgs = z.infer<typeof updateMessageArgs>;
export type VoteMessageArgs = z.infer<typeof voteMessageArgs>;
export type SaveDocumentArgs = z.infer<typeof saveDocumentArgs>;
export type CreateSuggestionsArgs = z.infer<typeof createSuggestionsArgs>;
export type Conversation = z.infer<typeof conversation>;
export type Message = z.infer<typeof message>;
