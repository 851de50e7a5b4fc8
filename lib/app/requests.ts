/** Validation of the restore and backups invoke payloads (clear errors, no stack traces). */
import * as z from '../zod.js';
import { InputError } from '../errors.js';

/** Which cluster, when the configuration lists several (checked against the configuration by the handler). */
const cluster = z.optional(z.string().check(z.minLength(1, 'must be the name of a configured cluster')));

const restoreSchema = z.strictObject({
  backup: z.string().check(z.minLength(1, 'must be a backup key or "latest"')),
  dryRun: z.optional(z.boolean()),
  force: z.optional(z.boolean()),
  cluster,
});

const listSchema = z.strictObject({ limit: z.optional(z.int().check(z.minimum(1), z.maximum(1000))), cluster });

function parse<T>(schema: z.ZodMiniType<T>, event: unknown, example: string): T {
  const r = schema.safeParse(event ?? {});
  if (!r.success) {
    const why = r.error.issues.map((i) =>
      i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : `${i.path.join('.') || 'payload'}: ${i.message}`,
    );
    throw new InputError(`invalid payload (${why.join('; ')}); expected ${example}`);
  }
  return r.data;
}

export function parseRestoreRequest(event: unknown): { backup: string; dryRun?: boolean; force?: boolean; cluster?: string } {
  return parse(restoreSchema, event, '{"backup": "<key>" | "latest", "dryRun"?: boolean, "force"?: boolean, "cluster"?: string}');
}

export function parseListRequest(event: unknown): { limit: number; cluster?: string } {
  const r = parse(listSchema, event, '{"limit"?: number, "cluster"?: string}');
  return { limit: r.limit ?? 50, ...(r.cluster !== undefined ? { cluster: r.cluster } : {}) };
}
