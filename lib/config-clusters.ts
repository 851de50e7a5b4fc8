/**
 * Many clusters from one deployment: a config names one `cluster` (the original format, kept
 * as it is) or lists `clusters`. With a list, the top-level fields are the defaults every
 * cluster shares, and each item overrides what it names:
 *
 * ```yaml
 * groupMappings: [{ iamGroup: eks-admins, kubernetesGroups: [system:masters] }]
 * clusters:
 *   - cluster: prod
 *     region: eu-west-1
 *   - cluster: staging
 *     region: us-east-2
 *     roleArn: arn:aws:iam::222233334444:role/aws-auth-syncer-access   # another account
 *     groupMappings: [{ iamGroup: eks-developers, kubernetesGroups: [system:masters] }]
 * ```
 *
 * Each cluster's own configuration is the shared fields with its overrides (a field an item
 * names replaces the shared one whole; lists and objects are not merged), validated by the very
 * schema a one-cluster config goes through, so everything downstream (policy, settings,
 * adapters, use cases) sees an ordinary one-cluster `Config`. Errors name the field where it is
 * written: `clusters[1].region: …` for an item's own field, `groupMappings[0]…` once for a shared
 * one. Pure: the file is read by lib/config.ts.
 */
import { isPlainObject } from './core/objects.js';
import { partitionOfRegion } from './core/identity.js';
import { ConfigError, InputError } from './errors.js';
import { configSchema, formatIssues, parseConfigValue, readConfigFileText, validateConfig, type Config } from './config.js';
import type * as z from './zod.js';

/** One cluster of the configuration. */
export interface ClusterEntry {
  /** Its complete configuration: the shared fields with its own overrides, as a one-cluster config. */
  config: Config;
  /** The role to assume to reach it (a cluster in another account); none: the syncer's own identity. */
  roleArn?: string;
}

/** The clusters a configuration names, in the order it lists them. */
export interface ClusterSet {
  /** `single`: the config names one `cluster` (the original format); `fleet`: it lists `clusters`. */
  kind: 'single' | 'fleet';
  clusters: ClusterEntry[];
}

/** Fields an item of `clusters` may set: its identity, where it is, and the mapping rules. */
const PER_CLUSTER = new Set([
  'cluster',
  'region',
  'target',
  'roleArn',
  'groupMappings',
  'roleMappings',
  'tagPrefix',
  'tags',
  'usernames',
  'adoptUnmanaged',
  'guards',
  'kubernetes',
]);
/** Fields that belong to the deployment, not to a cluster: one bucket and key, one set of own identities. */
const SHARED_ONLY = new Set(['backup', 'selfArn', 'clusters']);

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

type Issue = { path: PropertyKey[]; message: string };

const issueLines = (issues: readonly Issue[]): string[] =>
  formatIssues(issues.map((i) => ({ code: 'custom', input: undefined, ...i }) as z.core.$ZodIssue)).split('\n  ');

/**
 * Validate a configuration value: one `cluster`, or a `clusters` list with shared defaults.
 * Throws ConfigError listing every problem, each naming its field.
 */
export function validateClusterSet(value: unknown, source = 'config', deploymentRegion?: string): ClusterSet {
  if (!isPlainObject(value) || !('clusters' in value)) return { kind: 'single', clusters: [{ config: validateConfig(value, source) }] };
  const { clusters, ...shared } = value;
  const lines = new Set<string>();
  const add = (issues: readonly Issue[]) => issueLines(issues).forEach((l) => lines.add(l));
  if ('cluster' in shared) add([{ path: ['cluster'], message: 'give either cluster (one cluster) or clusters (several), not both' }]);
  delete shared.cluster;

  const entries: ClusterEntry[] = [];
  if (!Array.isArray(clusters) || clusters.length === 0) {
    add([{ path: ['clusters'], message: 'must list at least one cluster, such as [{cluster: prod, region: eu-west-1}]' }]);
    // Still report the shared fields' own problems.
    const r = configSchema.safeParse({ ...shared, cluster: 'placeholder' });
    if (!r.success) add(r.error.issues);
  } else {
    clusters.forEach((item: unknown, i) => {
      const at = (path: PropertyKey[], message: string): Issue => ({ path: ['clusters', i, ...path], message });
      if (!isPlainObject(item)) {
        add([at([], 'must be an object such as {cluster: prod, region: eu-west-1}')]);
        return;
      }
      const sharedOnly = Object.keys(item).filter((k) => SHARED_ONLY.has(k));
      for (const k of sharedOnly) add([at([k], 'is shared by every cluster: set it at the top level')]);
      const unknown = Object.keys(item).filter((k) => !PER_CLUSTER.has(k) && !SHARED_ONLY.has(k));
      if (unknown.length > 0) add([at([], `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}`)]);
      const { roleArn, ...own } = item;
      if (roleArn !== undefined && (typeof roleArn !== 'string' || !ROLE_ARN.test(roleArn))) {
        add([at(['roleArn'], 'must be an IAM role ARN such as arn:aws:iam::222233334444:role/aws-auth-syncer-access')]);
      }
      if (!('cluster' in item)) add([at(['cluster'], 'required: the EKS cluster name')]);
      if (sharedOnly.length > 0 || unknown.length > 0 || !('cluster' in item)) return;
      const r = configSchema.safeParse({ ...shared, ...own });
      if (!r.success) {
        // A problem in a field the item wrote is the item's; one in a shared field is reported once, where it is written.
        add(r.error.issues.map((x) => (x.path.length > 0 && (x.path[0] as string) in own ? { ...x, path: ['clusters', i, ...x.path] } : x)) as Issue[]);
        return;
      }
      if (typeof roleArn === 'string' && ROLE_ARN.test(roleArn)) entries.push({ config: r.data, roleArn });
      else if (roleArn === undefined) entries.push({ config: r.data });
    });
  }
  if (lines.size === 0) {
    const first = new Map<string, number>();
    entries.forEach((e, i) => {
      const seen = first.get(e.config.cluster);
      // Backups, metrics, tag keys and the queue's message groups are all keyed by the name.
      if (seen !== undefined)
        lines.add(
          `clusters[${i}].cluster: ${JSON.stringify(e.config.cluster)} is listed twice (also clusters[${seen}]); cluster names must be unique in one deployment`,
        );
      else first.set(e.config.cluster, i);
    });
    // IAM belongs to one partition: the identities read once cannot log in to a cluster of another.
    // A cluster without a region is in the deployment's (AWS_REGION), when it is known.
    const partitions = new Map<string, number>();
    entries.forEach((e, i) => {
      const region = e.config.region ?? deploymentRegion;
      if (region === undefined) return;
      const p = partitionOfRegion(region);
      if (!partitions.has(p)) partitions.set(p, i);
    });
    if (partitions.size > 1) {
      const [[p0, i0], [p1, i1]] = [...partitions.entries()] as [[string, number], [string, number]];
      lines.add(
        `clusters[${i1}].region: ${entries[i1]!.config.region ?? `${deploymentRegion} (the deployment's)`} is in partition ${p1}, clusters[${i0}] in ${p0}; one deployment reads the IAM of one partition`,
      );
    }
  }
  if (lines.size > 0) throw new ConfigError(`invalid ${source}:\n  ${[...lines].join('\n  ')}`, { context: { source } });
  return { kind: 'fleet', clusters: entries };
}

/** Parse YAML or JSON text and validate it as one cluster or a list of clusters. */
export function parseClusterSetText(text: string, source = 'config', deploymentRegion?: string): ClusterSet {
  return validateClusterSet(parseConfigValue(text, source), source, deploymentRegion);
}

/** Read a config file (one cluster or a list of clusters). */
export function readClusterSetFile(path: string, deploymentRegion?: string): ClusterSet {
  return parseClusterSetText(readConfigFileText(path), path, deploymentRegion);
}

/**
 * The cluster a request names. A one-cluster config needs no name (a name given must be its
 * cluster's); a list needs one of its names. A name that is not there is the request's mistake
 * (InputError), not the configuration's.
 */
export function pickCluster(set: ClusterSet, name?: string): ClusterEntry {
  const names = set.clusters.map((c) => c.config.cluster);
  if (name === undefined) {
    if (set.kind === 'single') return set.clusters[0]!;
    throw new InputError(
      `the configuration lists ${names.length} clusters (${names.join(', ')}): name one ("cluster" in the payload, --cluster on the command line)`,
    );
  }
  const found = set.clusters.find((c) => c.config.cluster === name);
  if (!found) throw new InputError(`cluster ${JSON.stringify(name)} is not in the configuration (${names.join(', ')})`);
  return found;
}
