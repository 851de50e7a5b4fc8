/**
 * Value types shared by the pure core. Nothing here touches the network, the environment or
 * the clock.
 */
import type { Identity } from './identity.js';

/** The two aws-auth keys whose entries the syncer reads and may manage. */
export type MapKey = 'mapRoles' | 'mapUsers';
export const MAP_KEYS: readonly MapKey[] = ['mapRoles', 'mapUsers'];

/** A Kubernetes ConfigMap as the API serves it (JSON wire form), kept whole and untyped
 * beyond what we read, so that nothing we do not understand is dropped. */
export interface ConfigMapObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    [field: string]: unknown;
  };
  data?: Record<string, string>;
  [field: string]: unknown;
}

/** An EKS access policy association: the policy and where it applies. */
export interface AccessPolicyGrant {
  /** `arn:<partition>:eks::aws:cluster-access-policy/<name>`. */
  policyArn: string;
  /** Cluster-wide, or the listed namespaces (sorted, de-duplicated). */
  scope: { type: 'cluster' } | { type: 'namespace'; namespaces: string[] };
}

/** A mapping the syncer wants: one identity, where it goes, what it gets. */
export interface Mapping {
  key: MapKey;
  identity: Identity;
  /** The principal's ARN as IAM reports it. Access entries need it so (roles keep their path);
   * aws-auth gets `identity.arn` (roles without their path). */
  principalArn: string;
  username: string;
  /** Sorted, de-duplicated. */
  groups: string[];
  /** EKS access policies from config (`accessPolicies` of the group and role mappings that
   * matched; never from tags), for the access-entries target. Sorted by policy ARN. */
  accessPolicies: AccessPolicyGrant[];
}

/** IAM principals as discovered (one consistent read). */
export interface IamUser {
  arn: string;
  userName: string;
  path: string;
  /** IAM's unique id (UserId), when the read has it: EKS keys access entries by it. */
  id?: string;
  /** CreateDate in ms since the epoch, when the read has it. */
  createdAt?: number;
  /** Names of the IAM groups the user belongs to. */
  groups: string[];
  tags: Record<string, string>;
}

export interface IamRole {
  arn: string;
  roleName: string;
  path: string;
  /** IAM's unique id (RoleId), when the read has it: EKS keys access entries by it. */
  id?: string;
  /** CreateDate in ms since the epoch, when the read has it. */
  createdAt?: number;
  tags: Record<string, string>;
}

export interface IamGroup {
  arn: string;
  groupName: string;
  path: string;
}

export interface IamSnapshot {
  users: IamUser[];
  roles: IamRole[];
  groups: IamGroup[];
}

/** Something the syncer skipped or noticed, that an operator should read. */
export interface Warning {
  code: string;
  message: string;
  arn?: string;
}

export type RefusalCode =
  | 'current-unreadable'
  | 'hidden-by-unreadable'
  | 'backup-unreadable'
  | 'render-roundtrip'
  | 'too-many-removals'
  | 'empty-discovery'
  | 'last-masters'
  | 'self-mapping'
  | 'node-mapping'
  | 'too-large'
  | 'last-cluster-admin';

/** A refusal by a guard. */
export interface Refusal {
  code: RefusalCode;
  message: string;
}

/** What an entry grants, as a diff shows it. */
export interface EntryValue {
  username: string;
  groups: string[];
}

/** One entry-level difference between the current and the next aws-auth. */
export type EntryChange =
  | { op: 'add'; key: MapKey; arn: string; after: EntryValue }
  | { op: 'remove'; key: MapKey; arn: string; before: EntryValue }
  | { op: 'update'; key: MapKey; arn: string; before: EntryValue; after: EntryValue }
  | { op: 'adopt'; key: MapKey; arn: string; before: EntryValue; after: EntryValue };

/** A desired mapping that collides with an entry the syncer does not own. */
export interface Conflict {
  key: MapKey;
  arn: string;
  reason: string;
}
