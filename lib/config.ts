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
import { identityKeyOf, partitionOfRegion } from './core/identity.js';
import {
  DEFAULT_ALLOWED_TAG_GROUPS,
  DEFAULT_MAX_REMOVALS,
  DEFAULT_ROLE_USERNAME,
  DEFAULT_TAG_PREFIX,
  DEFAULT_USER_USERNAME,
  renderUsername,
  type SyncPolicy,
} from './core/policy.js';

/** An AWS region name (eu-west-1, us-gov-west-1, cn-north-1, …). */
export const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d$/;

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
const ROLE_TEMPLATE_VARS = { partition: 'aws', accountId: '111122223333', roleName: 'r', path: '/' };

/** The syncer's own identity must be an ARN the guards can key (config, SYNCER_SELF_ARNS, the CLI's --self-arn). */
export const isSelfArn = (arn: string): boolean => identityKeyOf(arn) !== undefined;
export const SELF_ARN_EXPECTED = 'must be an IAM role or user ARN, or an STS assumed-role ARN';
const selfArnSchema = z.string().check(z.refine(isSelfArn, SELF_ARN_EXPECTED));
/** A KMS key id, key ARN, alias name or alias ARN. */
const KMS_KEY_RE =
  /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[\w-]+|alias\/[\w/+=,.@-]+)|alias\/[\w/+=,.@-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KMS_KEY_MESSAGE = 'must be a KMS key ARN (the stack output BackupMacKeyArn), key id or alias';

/** EKS namespace names (DNS labels); EKS also takes a trailing `*` (every namespace with that prefix). */
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\*?$|^[a-z0-9]{0,62}\*$/;
const accessPolicies = z.optional(
  z.array(
    z
      .strictObject({
        /** An EKS access policy by name (`aws eks list-access-policies`). */
        policy: pattern(/^AmazonEKS[A-Za-z0-9]{1,100}Policy$/, 'must be an EKS access policy name such as AmazonEKSViewPolicy (aws eks list-access-policies)'),
        scope: z.enum(['cluster', 'namespace']),
        namespaces: z.optional(
          z
            .array(pattern(NAMESPACE_RE, 'must be a Kubernetes namespace name (a trailing * matches a prefix)'))
            .check(z.minLength(1, 'must list at least one namespace')),
        ),
      })
      .check(
        z.refine((p) => (p.scope === 'namespace') === (p.namespaces !== undefined), 'scope namespace needs namespaces, and scope cluster takes none'),
        z.refine(
          (p) => p.policy !== 'AmazonEKSClusterAdminPolicy' || p.scope === 'cluster',
          'AmazonEKSClusterAdminPolicy is cluster-wide only (map the group to system:masters instead)',
        ),
      ),
  ),
);

/** Where the syncer writes: the aws-auth ConfigMap, or EKS access entries. Each cluster of a
 * `clusters:` list may name its own (lib/config-clusters.ts). */
export const TARGETS = ['aws-auth', 'access-entries'] as const;
export type Target = (typeof TARGETS)[number];

export const configSchema = z.strictObject({
  /** EKS cluster name. */
  cluster: pattern(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'must be an EKS cluster name (letters, digits, - and _, up to 100)'),
  /** Region of the cluster (defaults to the Lambda's / CLI's region). */
  region: z.optional(pattern(REGION_RE, 'must be an AWS region such as eu-west-1')),
  /** aws-auth (the ConfigMap) or access-entries (EKS access entries); README "Choosing a target". */
  target: z._default(z.enum(TARGETS), 'aws-auth'),
  groupMappings: z._default(
    z.array(
      z.strictObject({
        iamGroup: pattern(/^[\w+=,.@-]{1,128}$/, 'must be an IAM group name'),
        kubernetesGroups: z.array(kubernetesGroup).check(z.minLength(1, 'must list at least one Kubernetes group')),
        accessPolicies,
      }),
    ),
    [],
  ),
  /** Roles mapped by config: IAM Identity Center permission sets, or role-name globs. */
  roleMappings: z._default(
    z.array(
      z
        .strictObject({
          ssoPermissionSet: z.optional(pattern(/^[\w+=,.@-]{1,32}$/, 'must be an IAM Identity Center permission set name')),
          roleName: z.optional(pattern(/^[\w+=,.@*?-]{1,64}$/, 'must be an IAM role name or a glob of one (* and ?)')),
          kubernetesGroups: z.array(kubernetesGroup).check(z.minLength(1, 'must list at least one Kubernetes group')),
          username: z.optional(template(ROLE_TEMPLATE_VARS)),
          accessPolicies,
        })
        .check(z.refine((m) => (m.ssoPermissionSet === undefined) !== (m.roleName === undefined), 'must name exactly one of ssoPermissionSet and roleName')),
    ),
    [],
  ),
  tagPrefix: z._default(pattern(/^[\w.:/=+@-]{1,64}$/, 'must be a tag key prefix'), DEFAULT_TAG_PREFIX),
  tags: z._default(
    z.strictObject({
      /** Globs of the Kubernetes groups a tag may grant; system:masters only when listed as such. */
      allowedGroups: z._default(
        z.array(pattern(/^[\p{L}\p{N}_.:/=+\-@*?]{1,253}$/u, 'must be a Kubernetes group name or a glob of one')),
        DEFAULT_ALLOWED_TAG_GROUPS,
      ),
    }),
    { allowedGroups: DEFAULT_ALLOWED_TAG_GROUPS },
  ),
  usernames: z._default(
    z.strictObject({
      role: z._default(template(ROLE_TEMPLATE_VARS), DEFAULT_ROLE_USERNAME),
      user: z._default(template({ partition: 'aws', accountId: '111122223333', userName: 'u', path: '/' }), DEFAULT_USER_USERNAME),
    }),
    { role: DEFAULT_ROLE_USERNAME, user: DEFAULT_USER_USERNAME },
  ),
  adoptUnmanaged: z._default(z.boolean(), false),
  guards: z._default(z.strictObject({ maxRemovals: z._default(int(0), DEFAULT_MAX_REMOVALS) }), { maxRemovals: DEFAULT_MAX_REMOVALS }),
  /** ARNs of the syncer's own identities (sync and restore roles), whose access is never taken;
   * live runs add the caller and SYNCER_SELF_ARNS. One ARN or a list. */
  selfArn: z.optional(z.union([selfArnSchema, z.array(selfArnSchema)])),
  backup: z._default(
    z.strictObject({
      bucket: z.optional(pattern(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')),
      // No leading or trailing '/': serverless.yml scopes the roles' S3 rights to
      // `<prefix>/<cluster>/*` with this very text.
      prefix: z._default(
        pattern(/^[\w!.*'()-]+(\/[\w!.*'()-]+)*$/, "must be an S3 key prefix such as aws-auth-backups or team/backups (no leading or trailing '/')"),
        'aws-auth-backups',
      ),
      /** KMS HMAC key that signs backups (key ARN preferred: it names the key's region). */
      macKey: z.optional(pattern(KMS_KEY_RE, KMS_KEY_MESSAGE)),
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

/** The syncer's own identities named in the config, as a list. */
export function configSelfArns(config: Config): string[] {
  return config.selfArn === undefined ? [] : Array.isArray(config.selfArn) ? config.selfArn : [config.selfArn];
}

export type Config = z.infer<typeof configSchema>;

/** `groupMappings[1].iamGroup: must be an IAM group name` — one line per problem. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
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
  if (!result.success) throw new ConfigError(`invalid ${source}:\n  ${formatIssues(result.error.issues)}`, { context: { source } });
  return result.data;
}

/** YAML or JSON text (JSON is YAML) as a value, not yet validated. */
export function parseConfigValue(text: string, source = 'config'): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err, context: { source } });
  }
}

/** Parse YAML or JSON text (JSON is YAML) and validate it. */
export function parseConfigText(text: string, source = 'config'): Config {
  return validateConfig(parseConfigValue(text, source), source);
}

/** The text of a config file; a clear error when it cannot be read. */
export function readConfigFileText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

export function readConfigFile(path: string): Config {
  return parseConfigText(readConfigFileText(path), path);
}

/** What the Lambda functions need beyond the policy. */
export interface RuntimeSettings {
  config: Config;
  region: string;
  bucket: string;
  /** The syncer's own identities: `selfArn` in the config and SYNCER_SELF_ARNS (comma-separated;
   * serverless.yml sets the sync and restore role ARNs). Live runs add the caller. */
  selfArns: string[];
  /** The KMS key that signs and verifies backups, and the region it lives in (the stack's). */
  macKey: { id: string; region: string };
  /** SNS topic told about every applied change (SYNCER_CHANGE_TOPIC_ARN); none when unset. */
  changeTopicArn?: string;
}

/**
 * Where a Lambda function reads its configuration, in this order:
 * - `SYNCER_CONFIG_PARAMETER`: an SSM Parameter Store name or ARN, read and validated on every
 *   invocation, so a change needs no redeploy;
 * - `SYNCER_CONFIG`: inline YAML/JSON;
 * - `SYNCER_CONFIG_FILE`: a path relative to the function (the file bundled into the zip).
 */
export type ConfigSource = { kind: 'parameter'; name: string } | { kind: 'inline'; text: string } | { kind: 'file'; path: string };

/** SSM parameter names (`/a/b`, `a.b-c`) or parameter ARNs, as SSM accepts them. */
const PARAMETER_NAME = /^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/)?\/?[A-Za-z0-9_.\-/]{1,2048}$/;

export function configSourceFromEnv(env: NodeJS.ProcessEnv = process.env): ConfigSource {
  const parameter = env.SYNCER_CONFIG_PARAMETER?.trim();
  if (parameter) {
    if (!PARAMETER_NAME.test(parameter) || parameter.includes('//')) {
      throw new ConfigError(`SYNCER_CONFIG_PARAMETER: ${JSON.stringify(parameter)} is not an SSM parameter name (letters, digits, _ . - /) or parameter ARN`);
    }
    // SSM reserves names that start with "aws" or "ssm" (any case), e.g. /aws-auth-syncer/…
    if (/^\/?(aws|ssm)/i.test(parameter)) {
      throw new ConfigError(
        `SYNCER_CONFIG_PARAMETER: ${JSON.stringify(parameter)} starts with "aws" or "ssm", which SSM reserves; use a name such as /eks/aws-auth-syncer/prod`,
      );
    }
    return { kind: 'parameter', name: parameter };
  }
  if (env.SYNCER_CONFIG) return { kind: 'inline', text: env.SYNCER_CONFIG };
  if (env.SYNCER_CONFIG_FILE) return { kind: 'file', path: env.SYNCER_CONFIG_FILE };
  throw new ConfigError('no configuration: set SYNCER_CONFIG_PARAMETER (SSM parameter), SYNCER_CONFIG (YAML/JSON) or SYNCER_CONFIG_FILE (path)');
}

/**
 * Lambda configuration from the environment:
 * - `SYNCER_CONFIG` (inline YAML/JSON) or `SYNCER_CONFIG_FILE` (path, relative to the function);
 *   with SYNCER_CONFIG_PARAMETER the caller fetches the text and passes it to parseConfigText;
 * - `BACKUP_BUCKET` (set by serverless.yml to the bucket it creates) overrides `backup.bucket`;
 * - `BACKUP_MAC_KEY` (set by serverless.yml to the KMS key it creates) overrides `backup.macKey`;
 * - `AWS_REGION` (set by Lambda) unless the config names the cluster's region.
 */
export function loadRuntimeSettings(env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  const source = configSourceFromEnv(env);
  if (source.kind === 'parameter') throw new ConfigError('SYNCER_CONFIG_PARAMETER is set: the configuration must be read from SSM Parameter Store');
  const config = source.kind === 'inline' ? parseConfigText(source.text, 'SYNCER_CONFIG') : readConfigFile(source.path);
  return resolveSettings(config, env);
}

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/**
 * Region and bucket for a live run, for the Lambda and the CLI alike: the cluster's region is
 * `region` in the config or AWS_REGION; the bucket is the explicit override, BACKUP_BUCKET, or
 * `backup.bucket`; the change topic is SYNCER_CHANGE_TOPIC_ARN.
 */
export function resolveSettings(config: Config, env: NodeJS.ProcessEnv = process.env, bucketOverride?: string): RuntimeSettings {
  const region = config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigError('region: not configured and AWS_REGION is not set');
  const bucket = bucketOverride || env.BACKUP_BUCKET || config.backup.bucket;
  if (!bucket) throw new ConfigError('backup.bucket: required (or set BACKUP_BUCKET)');
  const changeTopicArn = env.SYNCER_CHANGE_TOPIC_ARN?.trim() || undefined;
  if (changeTopicArn && !TOPIC_ARN.test(changeTopicArn))
    throw new ConfigError(`SYNCER_CHANGE_TOPIC_ARN: ${JSON.stringify(changeTopicArn)} is not an SNS topic ARN`);
  const fromEnv = (env.SYNCER_SELF_ARNS ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  const bad = fromEnv.find((a) => !isSelfArn(a));
  if (bad !== undefined) throw new ConfigError(`SYNCER_SELF_ARNS: ${JSON.stringify(bad)} ${SELF_ARN_EXPECTED}`);
  const macKeyId = env.BACKUP_MAC_KEY || config.backup.macKey;
  if (!macKeyId) {
    throw new ConfigError('backup.macKey: required (or set BACKUP_MAC_KEY): the KMS HMAC key that signs backups, the stack output BackupMacKeyArn');
  }
  if (!KMS_KEY_RE.test(macKeyId))
    throw new ConfigError(`${env.BACKUP_MAC_KEY ? 'BACKUP_MAC_KEY' : 'backup.macKey'}: ${KMS_KEY_MESSAGE}, not ${JSON.stringify(macKeyId)}`);
  // A KMS key lives in one region, the stack's; the cluster may be elsewhere. An ARN says where;
  // for an id or alias, the caller's own region is the best guess.
  const macRegion = macKeyId.startsWith('arn:') ? macKeyId.split(':')[3]! : (env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? region);
  return {
    config,
    region,
    bucket,
    macKey: { id: macKeyId, region: macRegion },
    selfArns: [...new Set([...configSelfArns(config), ...fromEnv])],
    ...(changeTopicArn ? { changeTopicArn } : {}),
  };
}

/**
 * The pure core's view of the configuration. The partition is the cluster region's (config, or
 * the region the run is in); `clusterArn`, when known, binds ownership records to the cluster.
 */
export function toPolicy(config: Config, context: { region?: string; clusterArn?: string } = {}): SyncPolicy {
  return {
    cluster: config.cluster,
    ...(context.clusterArn ? { clusterArn: context.clusterArn } : {}),
    partition: partitionOfRegion(config.region ?? context.region),
    groupMappings: config.groupMappings,
    roleMappings: config.roleMappings,
    tagPrefix: config.tagPrefix,
    tags: { allowedGroups: config.tags.allowedGroups },
    roleUsername: config.usernames.role,
    userUsername: config.usernames.user,
    adoptUnmanaged: config.adoptUnmanaged,
    guards: { maxRemovals: config.guards.maxRemovals },
  };
}

/**
 * The FIFO queue that hands each cluster its part of a run (SYNCER_CLUSTER_QUEUE_URL, which
 * serverless.yml sets when the config file lists `clusters`). Required only for a fan-out.
 */
export function clusterQueueUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.SYNCER_CLUSTER_QUEUE_URL?.trim();
  if (!url) {
    throw new ConfigError(
      'SYNCER_CLUSTER_QUEUE_URL: not set; a configuration with clusters needs the cluster queue (serverless.yml sets it when its config file lists clusters)',
    );
  }
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = '';
  }
  if (!/^\/\d{12}\/[\w-]{1,75}\.fifo$/.test(path))
    throw new ConfigError(`SYNCER_CLUSTER_QUEUE_URL: ${JSON.stringify(url)} is not the URL of an SQS FIFO queue (…/<account>/<name>.fifo)`);
  return url;
}
