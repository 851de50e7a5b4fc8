/**
 * The current access entries of a cluster, as EKS serves them (DescribeAccessEntry,
 * ListAssociatedAccessPolicies) or as the offline contract's `--current-entries` file holds them:
 * read and checked, every problem named.
 */
import { sortedUnique } from './names.js';
import { isPlainObject } from './objects.js';
import type { AccessPolicyGrant } from './types.js';

/** Tag on every entry the syncer creates: its value is the cluster name. Entries without it are never changed. */
export const OWNED_TAG = 'aws-auth-syncer.io/owned';
/** Tag recording the IAM unique id (RoleId / UserId) the entry was created for. */
export const PRINCIPAL_ID_TAG = 'aws-auth-syncer.io/principal-id';
export const CLUSTER_ADMIN_POLICY = 'AmazonEKSClusterAdminPolicy';
export const MASTERS_GROUP = 'system:masters';

/** DescribeCluster `accessConfig.authenticationMode`; absent on clusters from before access entries (= CONFIG_MAP). */
export type AuthenticationMode = 'CONFIG_MAP' | 'API_AND_CONFIG_MAP' | 'API';

/** One access entry, as DescribeAccessEntry returns it (the fields the syncer reads). */
export interface AccessEntry {
  principalArn: string;
  kubernetesGroups: string[];
  username: string;
  /** STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, … */
  type: string;
  tags: Record<string, string>;
  /** ms since the epoch, when known. */
  createdAt?: number;
}

/** The cluster's access entries and the policies associated with each (by principal ARN). */
export interface CurrentEntries {
  entries: AccessEntry[];
  policies: Record<string, AccessPolicyGrant[]>;
}

export class EntriesFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EntriesFormatError';
  }
}

/** A timestamp as the SDK (Date), the aws CLI (ISO string) or the JSON API (epoch seconds) gives it. */
function timestamp(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v;
  if (typeof v === 'string' && Number.isFinite(Date.parse(v))) return Date.parse(v);
  throw new EntriesFormatError(`${where} is not a date`);
}

const strings = (v: unknown, where: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new EntriesFormatError(`${where} is not a list of strings`);
  return v as string[];
};

/** One DescribeAccessEntry `accessEntry`, checked. */
export function readAccessEntry(raw: unknown, where: string): AccessEntry {
  if (!isPlainObject(raw)) throw new EntriesFormatError(`${where} is not an object`);
  if (typeof raw.principalArn !== 'string' || raw.principalArn === '') throw new EntriesFormatError(`${where}.principalArn is missing`);
  const tags = raw.tags ?? {};
  if (!isPlainObject(tags) || !Object.values(tags).every((t) => typeof t === 'string')) throw new EntriesFormatError(`${where}.tags is not a map of strings`);
  if (raw.username !== undefined && raw.username !== null && typeof raw.username !== 'string')
    throw new EntriesFormatError(`${where}.username is not a string`);
  if (raw.type !== undefined && raw.type !== null && typeof raw.type !== 'string') throw new EntriesFormatError(`${where}.type is not a string`);
  const createdAt = timestamp(raw.createdAt, `${where}.createdAt`);
  return {
    principalArn: raw.principalArn,
    kubernetesGroups: strings(raw.kubernetesGroups, `${where}.kubernetesGroups`),
    username: typeof raw.username === 'string' ? raw.username : '',
    type: typeof raw.type === 'string' && raw.type !== '' ? raw.type : 'STANDARD',
    tags: tags as Record<string, string>,
    ...(createdAt !== undefined ? { createdAt } : {}),
  };
}

/** One ListAssociatedAccessPolicies item, checked and normalised (namespaces sorted). */
export function readAssociatedPolicy(raw: unknown, where: string): AccessPolicyGrant {
  if (!isPlainObject(raw)) throw new EntriesFormatError(`${where} is not an object`);
  if (typeof raw.policyArn !== 'string' || raw.policyArn === '') throw new EntriesFormatError(`${where}.policyArn is missing`);
  const scope = raw.accessScope;
  if (!isPlainObject(scope) || (scope.type !== 'cluster' && scope.type !== 'namespace')) {
    throw new EntriesFormatError(`${where}.accessScope.type must be cluster or namespace`);
  }
  if (scope.type === 'cluster') return { policyArn: raw.policyArn, scope: { type: 'cluster' } };
  return { policyArn: raw.policyArn, scope: { type: 'namespace', namespaces: sortedUnique(strings(scope.namespaces, `${where}.accessScope.namespaces`)) } };
}

/**
 * The offline `--current-entries` document: `{"accessEntries": [<DescribeAccessEntry
 * .accessEntry>…], "associatedPolicies": {"<principalArn>": [<ListAssociatedAccessPolicies item>…]}}`.
 */
export function entriesFromDocument(value: unknown): CurrentEntries {
  if (!isPlainObject(value) || !Array.isArray(value.accessEntries)) {
    throw new EntriesFormatError('expected {"accessEntries": [...], "associatedPolicies": {"<principalArn>": [...]}}');
  }
  const entries = value.accessEntries.map((e, i) => readAccessEntry(e, `accessEntries[${i}]`));
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.principalArn)) throw new EntriesFormatError(`accessEntries: ${e.principalArn} is listed twice (EKS holds one entry per principal)`);
    seen.add(e.principalArn);
  }
  // Without the associations the plan could not see which entries make cluster admins (the
  // guards would count none): missing is an error, an empty object says "none".
  if (value.associatedPolicies === undefined && entries.length > 0)
    throw new EntriesFormatError("associatedPolicies is missing: give each entry's `aws eks list-associated-access-policies` items, or {} when none has any");
  const raw = value.associatedPolicies ?? {};
  if (!isPlainObject(raw)) throw new EntriesFormatError('associatedPolicies is not an object keyed by principal ARN');
  const policies: Record<string, AccessPolicyGrant[]> = {};
  for (const [arn, list] of Object.entries(raw)) {
    if (!seen.has(arn)) throw new EntriesFormatError(`associatedPolicies: ${arn} has no access entry in accessEntries`);
    if (!Array.isArray(list)) throw new EntriesFormatError(`associatedPolicies["${arn}"] is not a list`);
    policies[arn] = list.map((p, i) => readAssociatedPolicy(p, `associatedPolicies["${arn}"][${i}]`));
  }
  return { entries, policies };
}
