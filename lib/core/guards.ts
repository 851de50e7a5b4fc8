/**
 * Guards: the checks that stand between a plan and a write. Each returns every refusal with a
 * message that says what would have happened and what to do, so an operator can act on it.
 */
import { identityKey } from './arn.js';
import { isNodeEntry, field, parseAwsAuth } from './parse.js';
import { CONFIGMAP_MAX_BYTES, dataSize } from './render.js';
import { MAP_KEYS, type ConfigMapObject, type ParsedAwsAuth, type Refusal } from './types.js';
import { stableJson } from './yaml.js';

export interface GuardInput {
  current: ConfigMapObject | null;
  currentParsed: ParsedAwsAuth;
  next: ConfigMapObject;
  /** What `next` was meant to hold, per key, as plain lists (for the round-trip check). */
  intended?: Record<string, unknown[]>;
  removals: number;
  maxRemovals: number;
  /** Desired managed entries found by discovery (sync only). */
  desiredCount?: number;
  /** Owned entries currently in aws-auth (sync only). */
  ownedCount?: number;
  /** The ARN the syncer runs as, when known. */
  selfArn?: string;
  /** Refusals to waive (force). */
  waive?: ReadonlySet<Refusal['code']>;
}

function hasMasters(parsed: ParsedAwsAuth): number {
  return parsed.entries.filter((e) => {
    const g = field(e.raw, 'groups');
    return Array.isArray(g) && g.includes('system:masters');
  }).length;
}

/** Serialise an entry for identity comparison (same object, same fields, same values). */
const entryId = (raw: unknown): string => stableJson(raw);

/** Parse `next`, reusing the current parse for every key whose text is unchanged. */
function parseReusing(next: ConfigMapObject, current: ConfigMapObject | null, currentParsed: ParsedAwsAuth): ParsedAwsAuth {
  const changed = MAP_KEYS.filter((k) => next.data?.[k] !== current?.data?.[k]);
  if (current === null || changed.length === MAP_KEYS.length) return parseAwsAuth(next);
  const fresh = parseAwsAuth({ ...next, data: Object.fromEntries(changed.flatMap((k) => (next.data?.[k] === undefined ? [] : [[k, next.data[k]!]]))) });
  const keep = (k: string) => !changed.includes(k as (typeof MAP_KEYS)[number]);
  return {
    entries: [...currentParsed.entries.filter((e) => keep(e.key)), ...fresh.entries],
    unreadableKeys: [...currentParsed.unreadableKeys.filter(keep), ...fresh.unreadableKeys],
    problems: [...currentParsed.problems.filter((p) => keep(p.key)), ...fresh.problems],
  };
}

export function checkGuards(input: GuardInput): Refusal[] {
  const refusals: Refusal[] = [];
  const { currentParsed } = input;
  const nextParsed = parseReusing(input.next, input.current, currentParsed);

  if (currentParsed.problems.length > 0) {
    const list = currentParsed.problems
      .map((p) => `${p.key}${p.index === undefined ? '' : `[${p.index}]`}: ${p.reason}`)
      .join('; ');
    refusals.push({
      code: 'current-unparseable',
      message: `the current aws-auth has problems the authenticator would also trip on (${list}); fix them by hand or run with force to let the syncer rewrite the keys it can`,
    });
  }

  // Only the keys this plan rewrote: a problem in a key kept verbatim is the current object's
  // (reported above), not the renderer's.
  if (input.intended) {
    for (const key of MAP_KEYS) {
      const want = input.intended[key];
      if (!want) continue;
      if (nextParsed.unreadableKeys.includes(key)) {
        const why = nextParsed.problems.filter((p) => p.key === key).map((p) => p.reason).join('; ');
        refusals.push({ code: 'render-roundtrip', message: `the rendered ${key} does not parse back (${why})` });
        continue;
      }
      const got = nextParsed.entries.filter((e) => e.key === key).map((e) => e.raw);
      if (stableJson(got) !== stableJson(want)) {
        refusals.push({ code: 'render-roundtrip', message: `the rendered ${key} does not read back as the planned entries` });
      }
    }
  }

  if (input.removals > input.maxRemovals) {
    refusals.push({
      code: 'too-many-removals',
      message: `${input.removals} managed entries would be removed, more than guards.maxRemovals (${input.maxRemovals}); check IAM, then raise the limit or run with force`,
    });
  }

  if (input.desiredCount === 0 && (input.ownedCount ?? 0) > 0) {
    refusals.push({
      code: 'empty-discovery',
      message: `IAM discovery found no principal to map while the syncer owns ${input.ownedCount} entries; refusing to remove them all (check the group mappings and tags, or run with force)`,
    });
  }

  const mastersBefore = hasMasters(currentParsed);
  if (mastersBefore > 0 && hasMasters(nextParsed) === 0) {
    refusals.push({
      code: 'last-masters',
      message: 'the last entry granting system:masters would be removed; nobody could administer the cluster through aws-auth',
    });
  }

  // Node mappings: every one must survive exactly as it is.
  const nextIds = new Set(nextParsed.entries.map((e) => entryId(e.raw)));
  const lostNodes = currentParsed.entries.filter((e) => isNodeEntry(e) && !nextIds.has(entryId(e.raw)));
  if (lostNodes.length > 0) {
    refusals.push({
      code: 'node-mapping',
      message: `${lostNodes.length} node mapping(s) (system:nodes/system:bootstrappers) would be removed or changed (${lostNodes
        .map((e) => `${e.key}[${e.index}]`)
        .join(', ')}); nodes would go NotReady`,
    });
  }

  if (input.selfArn) {
    const self = identityKey(input.selfArn);
    if (self !== undefined) {
      const before = currentParsed.entries.filter((e) => e.canonical === self);
      const after = nextParsed.entries.filter((e) => e.canonical === self);
      const kept = before.every((b) => after.some((a) => entryId(a.raw) === entryId(b.raw)));
      if (before.length > 0 && !kept) {
        refusals.push({
          code: 'self-mapping',
          message: `the syncer's own mapping (${input.selfArn}) would be removed or changed; it would lock itself out`,
        });
      }
    }
  }

  const size = dataSize(input.next);
  if (size > CONFIGMAP_MAX_BYTES) {
    refusals.push({
      code: 'too-large',
      message: `the next aws-auth would hold ${size} bytes of data (${nextParsed.entries.length} entries), over the 1 MiB ConfigMap limit; map IAM groups to fewer principals or move principals to EKS access entries`,
    });
  }

  return refusals.filter((r) => !input.waive?.has(r.code));
}
