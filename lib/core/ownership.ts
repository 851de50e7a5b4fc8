/**
 * What the syncer owns is recorded on the ConfigMap itself, in one annotation, so that the
 * syncer removes only entries it created and never an entry somebody else wrote.
 *
 * The annotation holds a short SHA-256 digest of each owned entry's canonical key rather than
 * the ARNs: annotations share a 256 KiB budget, and digests keep the record within it for as
 * many entries as fit in the 1 MiB ConfigMap.
 */
import { createHash } from 'node:crypto';
import type { ConfigMapObject } from './types.js';

export const OWNED_ANNOTATION = 'aws-auth-syncer.io/owned';
const VERSION_PREFIX = 'v1:';
const TOKEN_RE = /^[0-9a-f]{16}$/;

/** The digest recorded for one canonical key (see `canonicalKey`). */
export function ownershipToken(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** Read the owned set. A missing or malformed annotation means "owns nothing": the safe
 * reading, since it can only make the syncer leave entries alone. */
export function readOwned(cm: ConfigMapObject | null): { tokens: Set<string>; malformed: boolean } {
  const value = cm?.metadata?.annotations?.[OWNED_ANNOTATION];
  if (value === undefined) return { tokens: new Set(), malformed: false };
  if (typeof value !== 'string' || !value.startsWith(VERSION_PREFIX)) return { tokens: new Set(), malformed: true };
  const body = value.slice(VERSION_PREFIX.length);
  const parts = body === '' ? [] : body.split(',');
  if (!parts.every((p) => TOKEN_RE.test(p))) return { tokens: new Set(), malformed: true };
  return { tokens: new Set(parts), malformed: false };
}

/** Serialise an owned set (sorted, so equal sets give equal annotations). */
export function formatOwned(tokens: Iterable<string>): string {
  return VERSION_PREFIX + [...new Set(tokens)].sort().join(',');
}
