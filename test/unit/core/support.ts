/**
 * Shared helpers for the core tests: fixture paths, ConfigMap loading, policy defaults and
 * small IAM builders. Not a test file (jest only runs *.test.ts).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  DEFAULT_ALLOWED_TAG_GROUPS,
  DEFAULT_MAX_REMOVALS,
  DEFAULT_ROLE_USERNAME,
  DEFAULT_TAG_PREFIX,
  DEFAULT_USER_USERNAME,
  type SyncPolicy,
} from '../../../lib/core/policy.js';
import type { ConfigMapObject, IamGroup, IamRole, IamSnapshot, IamUser } from '../../../lib/core/types.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Absolute path under test/fixtures/core. */
export function fixturePath(...parts: string[]): string {
  return join(here, '..', '..', 'fixtures', 'core', ...parts);
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readJsonIfExists<T>(path: string): T | undefined {
  return existsSync(path) ? readJson<T>(path) : undefined;
}

/** Sorted names of the entries of a fixture directory that satisfy `keep`. */
export function listDir(path: string, keep: (name: string) => boolean = () => true): string[] {
  return readdirSync(path).filter(keep).sort();
}

/** A ConfigMap as `kubectl get cm aws-auth -o yaml` prints it (outer document: plain YAML). */
export function loadConfigMap(text: string): ConfigMapObject {
  const cm = parse(text) as ConfigMapObject;
  if (typeof cm !== 'object' || cm === null || typeof cm.metadata !== 'object') {
    throw new Error('fixture is not a ConfigMap object');
  }
  return cm;
}

/** A complete SyncPolicy: defaults, then `over`. */
export function makePolicy(over: Partial<SyncPolicy> = {}): SyncPolicy {
  return {
    cluster: 'prod',
    partition: 'aws',
    groupMappings: [],
    roleMappings: [],
    tagPrefix: DEFAULT_TAG_PREFIX,
    tags: { allowedGroups: DEFAULT_ALLOWED_TAG_GROUPS },
    roleUsername: DEFAULT_ROLE_USERNAME,
    userUsername: DEFAULT_USER_USERNAME,
    adoptUnmanaged: false,
    guards: { maxRemovals: DEFAULT_MAX_REMOVALS },
    ...over,
  };
}

export const ACCOUNT = '111122223333';

export function role(name: string, tags: Record<string, string> = {}, opts: { path?: string; partition?: string; account?: string } = {}): IamRole {
  const path = opts.path ?? '/';
  return {
    arn: `arn:${opts.partition ?? 'aws'}:iam::${opts.account ?? ACCOUNT}:role${path}${name}`,
    roleName: name,
    path,
    tags,
  };
}

export function user(
  name: string,
  groups: string[] = [],
  tags: Record<string, string> = {},
  opts: { path?: string; partition?: string; account?: string } = {},
): IamUser {
  const path = opts.path ?? '/';
  return {
    arn: `arn:${opts.partition ?? 'aws'}:iam::${opts.account ?? ACCOUNT}:user${path}${name}`,
    userName: name,
    path,
    groups,
    tags,
  };
}

export function group(name: string): IamGroup {
  return { arn: `arn:aws:iam::${ACCOUNT}:group/${name}`, groupName: name, path: '/' };
}

export function snapshot(parts: Partial<IamSnapshot>): IamSnapshot {
  return { users: parts.users ?? [], roles: parts.roles ?? [], groups: parts.groups ?? [] };
}

/** Raw characters the authenticator's Go YAML 1.1 parser treats as line breaks. */
export const YAML11_LINE_BREAKS = /[\u0085\u2028\u2029]/u;

/** An aws-auth ConfigMap holding the given data (a fixed resourceVersion). */
export function awsAuth(data: Record<string, string>, annotations?: Record<string, string>): ConfigMapObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: '100', ...(annotations ? { annotations } : {}) },
    data,
  };
}
