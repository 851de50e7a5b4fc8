/**
 * What the syncer owns is recorded on the ConfigMap itself, in one annotation, so that it removes
 * only entries it wrote and never an entry somebody else wrote.
 *
 * `v2;<cluster>;<token>,<token>,…` — `<cluster>` is the cluster the record belongs to (its EKS
 * ARN when the syncer knows it, else its name); each token is a short SHA-256 over that cluster,
 * the aws-auth key and the identity. So a record copied from another cluster's aws-auth, or
 * tokens typed without this derivation, own nothing here. The derivation holds no secret: it
 * guards against copies and slips, not against someone who may write aws-auth (they can change
 * any entry anyway). Digests rather than ARNs keep the record within the 256 KiB annotation
 * budget for every aws-auth that fits in 1 MiB.
 */
import { hash } from 'node:crypto';
import type { ConfigMapObject, MapKey } from './types.js';

export const OWNED_ANNOTATION = 'aws-auth-syncer.io/owned';
const TOKEN_RE = /^[0-9a-f]{16}$/;
const CLUSTER_ARN_RE = /^arn:[a-z-]+:eks:[a-z0-9-]+:\d{12}:cluster\/([0-9A-Za-z][A-Za-z0-9_-]{0,99})$/;

/** The cluster as the syncer knows it. */
export interface ClusterRef {
  name: string;
  /** The EKS cluster ARN, when known (live runs learn it from DescribeCluster). */
  arn?: string;
}

/** The token recorded for one owned entry. */
export function ownershipToken(recordRef: string, key: MapKey, identityKey: string): string {
  // One-shot hash: a 1 MiB aws-auth holds ~10,000 entries to check on every run.
  return hash('sha256', `aws-auth-syncer/owned/v2\n${recordRef}\n${key}\n${identityKey}`, 'hex').slice(0, 16);
}

export interface OwnedRecord {
  /** The cluster reference the recorded tokens were derived with. */
  readRef: string;
  /** The reference new tokens are derived with (the cluster ARN once known). */
  writeRef: string;
  tokens: Set<string>;
  /** Why the annotation was not accepted (then nothing is owned), for a warning. */
  problem?: string;
}

/** Does the record own the entry for this identity in this key? */
export function owns(record: OwnedRecord, key: MapKey, identityKey: string): boolean {
  return record.tokens.size > 0 && record.tokens.has(ownershipToken(record.readRef, key, identityKey));
}

/**
 * Read the owned set. A missing, malformed or foreign annotation means "owns nothing": the safe
 * reading, since it can only make the syncer leave entries alone. A record made without the
 * cluster ARN (offline, or through a kubeconfig) is accepted by name and re-bound to the ARN on
 * the next write that knows it.
 */
export function readOwned(cm: ConfigMapObject | null, cluster: ClusterRef): OwnedRecord {
  const own = cluster.arn ?? cluster.name;
  const none = (problem?: string): OwnedRecord => ({ readRef: own, writeRef: own, tokens: new Set(), ...(problem ? { problem } : {}) });
  const value = cm?.metadata?.annotations?.[OWNED_ANNOTATION];
  if (value === undefined) return none();
  if (typeof value !== 'string') return none('the ownership annotation is not a string; treating every entry as unmanaged');
  if (value.startsWith('v1:')) {
    return none(
      'the ownership annotation is in the old v1 form, which is not bound to a cluster; treating every entry as unmanaged (run once with adoptUnmanaged: true to take the managed entries back)',
    );
  }
  const m = /^v2;([^;]+);([0-9a-f,]*)$/.exec(value);
  if (!m || (m[2] !== '' && !m[2]!.split(',').every((t) => TOKEN_RE.test(t)))) {
    return none('the ownership annotation is malformed; treating every entry as unmanaged');
  }
  const ref = m[1]!;
  const refIsArn = CLUSTER_ARN_RE.test(ref);
  const refName = CLUSTER_ARN_RE.exec(ref)?.[1] ?? ref;
  const ours = refIsArn && cluster.arn !== undefined ? ref === cluster.arn : refName === cluster.name;
  if (!ours) {
    return none(`the ownership annotation belongs to cluster ${ref}, not ${own} (copied from another cluster?); treating every entry as unmanaged`);
  }
  return { readRef: ref, writeRef: cluster.arn ?? ref, tokens: new Set(m[2] === '' ? [] : m[2]!.split(',')) };
}

/** Serialise an owned set (sorted, so equal sets give equal annotations). */
export function formatOwned(ref: string, tokens: Iterable<string>): string {
  return `v2;${ref};${[...new Set(tokens)].sort().join(',')}`;
}
