/** Validation of the restore and backups invoke payloads (clear errors, no stack traces). */
import * as z from 'zod';
import { InputError } from '../errors.js';

const restoreSchema = z
  .object({
    backup: z.string().min(1, 'must be a backup key or "latest"'),
    dryRun: z.boolean().optional(),
    force: z.boolean().optional(),
  })
  .strict();

const listSchema = z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict();

function parse<T>(schema: z.ZodType<T>, event: unknown, example: string): T {
  const r = schema.safeParse(event ?? {});
  if (!r.success) {
    const why = r.error.issues.map((i) => (i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : `${i.path.join('.') || 'payload'}: ${i.message}`));
    throw new InputError(`invalid payload (${why.join('; ')}); expected ${example}`);
  }
  return r.data;
}

export function parseRestoreRequest(event: unknown): { backup: string; dryRun?: boolean; force?: boolean } {
  return parse(restoreSchema, event, '{"backup": "<key>" | "latest", "dryRun"?: boolean, "force"?: boolean}');
}

export function parseListRequest(event: unknown): { limit: number } {
  return { limit: parse(listSchema, event, '{"limit"?: number}').limit ?? 50 };
}
