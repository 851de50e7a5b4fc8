/**
 * Configuration: the only module that reads the environment or a config file. Loaded once,
 * validated with a schema, and every error names the field (`groupMappings[1].iamGroup: …`).
 *
 * The same format serves the CLI (`--config file`) and the Lambda (a file bundled with the
 * function, or inline in an environment variable).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import * as z from './zod.js';
import { ConfigError } from './errors.js';
import { groupProblem } from './core/names.js';
import { identityKey } from './core/arn.js';
import {
  DEFAULT_MAX_REMOVALS,
  DEFAULT_ROLE_USERNAME,
  DEFAULT_TAG_PREFIX,
  DEFAULT_USER_USERNAME,
  renderUsername,
  type SyncPolicy,
} from './core/policy.js';

const kubernetesGroup = z.string().check(
  z.superRefine((g, ctx) => {
    const problem = groupProblem(g);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: g });
  }),
);

const template = (vars: Record<string, string>) =>
  z.string().check(
    z.superRefine((t, ctx) => {
      try {
        renderUsername(t, vars);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message, input: t });
      }
    }),
  );

const pattern = (re: RegExp, message: string) => z.string().check(z.regex(re, message));
const int = (min: number, max?: number) => z.int().check(z.minimum(min), ...(max === undefined ? [] : [z.maximum(max)]));

export const configSchema = z.strictObject({
  /** EKS cluster name. */
  cluster: pattern(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'must be an EKS cluster name (letters, digits, - and _, up to 100)'),
  /** Region of the cluster (defaults to the Lambda's / CLI's region). */
  region: z.optional(pattern(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1')),
  groupMappings: z._default(
    z.array(
      z.strictObject({
        iamGroup: pattern(/^[\w+=,.@-]{1,128}$/, 'must be an IAM group name'),
        kubernetesGroups: z.array(kubernetesGroup).check(z.minLength(1, 'must list at least one Kubernetes group')),
      }),
    ),
    [],
  ),
  tagPrefix: z._default(pattern(/^[\w.:/=+@-]{1,64}$/, 'must be a tag key prefix'), DEFAULT_TAG_PREFIX),
  usernames: z._default(
    z.strictObject({
      role: z._default(template({ partition: 'aws', accountId: '111122223333', roleName: 'r', path: '/' }), DEFAULT_ROLE_USERNAME),
      user: z._default(template({ partition: 'aws', accountId: '111122223333', userName: 'u', path: '/' }), DEFAULT_USER_USERNAME),
    }),
    { role: DEFAULT_ROLE_USERNAME, user: DEFAULT_USER_USERNAME },
  ),
  adoptUnmanaged: z._default(z.boolean(), false),
  guards: z._default(z.strictObject({ maxRemovals: z._default(int(0), DEFAULT_MAX_REMOVALS) }), { maxRemovals: DEFAULT_MAX_REMOVALS }),
  /** ARN of the syncer's own identity, to protect its mapping; live runs default to the caller. */
  selfArn: z.optional(z.string().check(z.refine((arn) => identityKey(arn) !== undefined, 'must be an IAM role or user ARN, or an STS assumed-role ARN'))),
  backup: z._default(
    z.strictObject({
      bucket: z.optional(pattern(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')),
      prefix: z._default(pattern(/^[\w!.*'()/-]*$/, 'must be an S3 key prefix'), 'aws-auth-backups'),
    }),
    { prefix: 'aws-auth-backups' },
  ),
  kubernetes: z._default(
    z.strictObject({
      /** Per request timeout against the API server. */
      timeoutMs: z._default(int(100, 120000), 10000),
      /** Read-plan-write attempts before a 409 conflict is reported. */
      writeAttempts: z._default(int(1, 10), 3),
    }),
    { timeoutMs: 10000, writeAttempts: 3 },
  ),
});

export type Config = z.infer<typeof configSchema>;

/** `groupMappings[1].iamGroup: must be an IAM group name` — one line per problem. */
function formatIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
      if (i.code === 'unrecognized_keys') return `${path ? `${path}: ` : ''}unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      return `${path || '(top level)'}: ${i.message}`;
    })
    .join('\n  ');
}

/** Validate a config object. */
export function validateConfig(value: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(value ?? {});
  if (!result.success) throw new ConfigError(`invalid ${source}:\n  ${formatIssues(result.error)}`, { context: { source } });
  return result.data;
}

/** Parse YAML or JSON text (JSON is YAML) and validate it. */
export function parseConfigText(text: string, source = 'config'): Config {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err, context: { source } });
  }
  return validateConfig(value, source);
}

export function readConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return parseConfigText(text, path);
}

/** What the Lambda functions need beyond the policy. */
export interface RuntimeSettings {
  config: Config;
  region: string;
  bucket: string;
}

/**
 * Lambda configuration from the environment:
 * - `SYNCER_CONFIG` (inline YAML/JSON) or `SYNCER_CONFIG_FILE` (path, relative to the function);
 * - `BACKUP_BUCKET` (set by serverless.yml to the bucket it creates) overrides `backup.bucket`;
 * - `AWS_REGION` (set by Lambda) unless the config names the cluster's region.
 */
export function loadRuntimeSettings(env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  let config: Config;
  if (env.SYNCER_CONFIG) config = parseConfigText(env.SYNCER_CONFIG, 'SYNCER_CONFIG');
  else if (env.SYNCER_CONFIG_FILE) config = readConfigFile(env.SYNCER_CONFIG_FILE);
  else throw new ConfigError('no configuration: set SYNCER_CONFIG (YAML/JSON) or SYNCER_CONFIG_FILE (path)');
  return resolveSettings(config, env);
}

/**
 * Region and bucket for a live run, for the Lambda and the CLI alike: the cluster's region is
 * `region` in the config or AWS_REGION; the bucket is the explicit override, BACKUP_BUCKET, or
 * `backup.bucket`.
 */
export function resolveSettings(config: Config, env: NodeJS.ProcessEnv = process.env, bucketOverride?: string): RuntimeSettings {
  const region = config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigError('region: not configured and AWS_REGION is not set');
  const bucket = bucketOverride || env.BACKUP_BUCKET || config.backup.bucket;
  if (!bucket) throw new ConfigError('backup.bucket: required (or set BACKUP_BUCKET)');
  return { config, region, bucket };
}

/** The pure core's view of the configuration. */
export function toPolicy(config: Config): SyncPolicy {
  return {
    cluster: config.cluster,
    groupMappings: config.groupMappings,
    tagPrefix: config.tagPrefix,
    roleUsername: config.usernames.role,
    userUsername: config.usernames.user,
    adoptUnmanaged: config.adoptUnmanaged,
    guards: { maxRemovals: config.guards.maxRemovals },
  };
}
