/**
 * Value types shared by the pure core. Nothing here touches the network, the environment or
 * the clock.
 */

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

/** One mapping of an IAM principal to a Kubernetes identity. */
export interface Mapping {
  key: MapKey;
  /** ARN as it will be written (roles without path). */
  arn: string;
  username: string;
  /** Sorted, de-duplicated. */
  groups: string[];
}

/** An entry found in the current aws-auth, with the exact object it was parsed from. */
export interface CurrentEntry {
  key: MapKey;
  index: number;
  /** The list item exactly as parsed (unknown fields, original key spelling; not necessarily
   * a mapping when the entry is malformed). */
  raw: unknown;
  /** Normalised view; undefined when the entry could not be understood. */
  mapping?: { arn: string; username: string; groups: string[] };
  /** Canonical identity (see `canonicalKey`), when the ARN could be read. */
  canonical?: string;
}

/** A problem found while parsing aws-auth, reported with where it is and why. */
export interface ParseProblem {
  key: string;
  /** Entry index within the key's list; undefined when the whole key is unreadable. */
  index?: number;
  reason: string;
}

/** Result of parsing a current aws-auth ConfigMap. */
export interface ParsedAwsAuth {
  entries: CurrentEntry[];
  /** Keys whose YAML could not be read at all: their text is kept verbatim. */
  unreadableKeys: MapKey[];
  problems: ParseProblem[];
}

/** IAM principals as discovered (one consistent read). */
export interface IamUser {
  arn: string;
  userName: string;
  path: string;
  /** Names of the IAM groups the user belongs to. */
  groups: string[];
  tags: Record<string, string>;
}

export interface IamRole {
  arn: string;
  roleName: string;
  path: string;
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

/** A refusal by a guard. */
export interface Refusal {
  code:
    | 'current-unparseable'
    | 'render-roundtrip'
    | 'too-many-removals'
    | 'empty-discovery'
    | 'last-masters'
    | 'self-mapping'
    | 'node-mapping'
    | 'too-large'
    | 'backup-unparseable';
  message: string;
}

/** One entry-level difference between the current and the next aws-auth. */
export type EntryChange =
  | { op: 'add'; key: MapKey; arn: string; after: Mapping }
  | { op: 'remove'; key: MapKey; arn: string; before: { username: string; groups: string[] } }
  | {
      op: 'update';
      key: MapKey;
      arn: string;
      before: { username: string; groups: string[] };
      after: Mapping;
    }
  | { op: 'adopt'; key: MapKey; arn: string; before: { username: string; groups: string[] }; after: Mapping };

/** A desired mapping that collides with an entry the syncer does not own. */
export interface Conflict {
  key: MapKey;
  arn: string;
  reason: string;
}
