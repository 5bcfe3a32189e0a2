// The identity RPC contract (supabase/migrations/*_identity.sql) as zod
// schemas: validate before calling, parse what comes back. The rules mirror
// the SQL checks exactly; tests/identity.test.ts proves both sides agree.
import { z } from 'zod';

/** 3-30 letters, digits or underscores; unique regardless of case. */
export const username = z
  .string()
  .regex(/^[A-Za-z0-9_]{3,30}$/, 'invalid username: must be 3 to 30 characters, letters, digits or underscores');

/** At most 100 characters after trimming; blank clears it. */
export const displayName = z
  .string()
  .refine((s) => s.trim().length <= 100, 'invalid display name: at most 100 characters');

/** An http(s) URL of at most 2048 characters, or '' to clear it. */
export const avatarUrl = z.union([
  z.literal(''),
  z
    .string()
    .max(2048, 'invalid avatar URL: must be an http(s) URL of at most 2048 characters')
    .regex(/^https?:\/\/\S+$/, 'invalid avatar URL: must be an http(s) URL of at most 2048 characters'),
]);

/** Arguments of `update_my_profile`; omitted fields stay as they are. */
export const updateMyProfileArgs = z
  .object({
    p_username: username.optional(),
    p_display_name: displayName.optional(),
    p_avatar_url: avatarUrl.optional(),
    /** Shallow-merged into the stored metadata; a key set to null is removed. */
    p_metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type UpdateMyProfileArgs = z.infer<typeof updateMyProfileArgs>;

/** A row of `public.profiles`, as `get_my_profile` and `update_my_profile` return it. */
export const profile = z.object({
  id: z.uuid(),
  email: z.string().nullable(),
  username: z.string().nullable(),
  display_name: z.string().nullable(),
  avatar_url: z.string().nullable(),
  role: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  last_seen_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export type Profile = z.infer<typeof profile>;
