/**
 * IAM identities as values: parsing, path stripping, partition and the canonical key used to
 * compare entries. Modelled on aws-iam-authenticator's pkg/arn.
 */
import type { MapKey } from './types.js';

export interface ParsedArn {
  partition: string;
  accountId: string;
  /** `role`, `user`, `assumed-role`, `group`, … */
  resourceType: string;
  /** IAM path including leading and trailing slash, `/` when none. */
  path: string;
  /** Last path segment (role or user name). */
  name: string;
  /** For assumed-role ARNs, the session name. */
  sessionName?: string;
  service: 'iam' | 'sts';
}

const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc']);
const ARN_RE = /^arn:([a-z-]+):(iam|sts)::(\d{12}):([a-z-]+)\/(.+)$/;

/** Parse an IAM or STS principal ARN. Returns undefined when it is not one. */
export function parseArn(arn: string): ParsedArn | undefined {
  const m = ARN_RE.exec(arn.trim());
  if (!m) return undefined;
  const [, partition, service, accountId, resourceType, rest] = m as unknown as [string, string, 'iam' | 'sts', string, string, string];
  if (!PARTITIONS.has(partition)) return undefined;
  if (service === 'sts') {
    if (resourceType !== 'assumed-role') return undefined;
    const parts = rest.split('/');
    if (parts.length < 2 || parts.some((p) => p === '')) return undefined;
    const sessionName = parts.pop() as string;
    const name = parts.pop() as string;
    return { partition, service, accountId, resourceType, path: '/', name, sessionName };
  }
  if (resourceType === 'assumed-role') return undefined; // an STS resource, never under iam
  const segments = rest.split('/');
  const name = segments.pop() as string;
  if (name === '' || segments.some((s) => s === '')) return undefined;
  const path = segments.length ? `/${segments.join('/')}/` : '/';
  return { partition, service, accountId, resourceType, path, name };
}

/**
 * The role ARN the authenticator will compare against. The authenticator turns the caller's
 * assumed-role ARN (which never carries a path) into `arn:…:iam::acct:role/Name`, so an
 * aws-auth entry for a role with a path (AWS SSO roles live under
 * /aws-reserved/sso.amazonaws.com/…) can never match unless the path is removed.
 */
export function roleArnWithoutPath(arn: string): string | undefined {
  const p = parseArn(arn);
  if (!p) return undefined;
  if (p.resourceType === 'role' || p.resourceType === 'assumed-role') {
    return `arn:${p.partition}:iam::${p.accountId}:role/${p.name}`;
  }
  return undefined;
}

/**
 * Canonical form of the ARN for a key: roles lose their path, users keep theirs (the
 * authenticator's user ARN from GetCallerIdentity includes the user's path).
 */
export function canonicalArn(key: MapKey, arn: string): string | undefined {
  const p = parseArn(arn);
  if (!p) return undefined;
  if (key === 'mapRoles') return roleArnWithoutPath(arn);
  if (p.resourceType !== 'user' || p.service !== 'iam') return undefined;
  return `arn:${p.partition}:iam::${p.accountId}:user${p.path}${p.name}`;
}

/**
 * Identity used to compare and merge entries: the key plus the canonical ARN, lower-cased
 * (the authenticator compares ARNs case-insensitively).
 */
export function canonicalKey(key: MapKey, arn: string): string | undefined {
  const c = canonicalArn(key, arn);
  return c === undefined ? undefined : `${key}:${c.toLowerCase()}`;
}

/** The canonical IAM role ARN for whatever identity ARN the syncer runs as (an assumed-role
 * session, a role or a user). */
export function identityKey(arn: string): string | undefined {
  const p = parseArn(arn);
  if (!p) return undefined;
  if (p.resourceType === 'role' || p.resourceType === 'assumed-role') return canonicalKey('mapRoles', arn);
  if (p.resourceType === 'user') return canonicalKey('mapUsers', arn);
  return undefined;
}
