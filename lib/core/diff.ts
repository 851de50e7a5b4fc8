/**
 * The readable diffs: entry changes (what the text gains and loses) and access changes (who can
 * log in as what, before → after, as the authenticator reads it). Lines for humans: stderr, logs,
 * replies and notifications.
 */
import { AUTHENTICATOR_VERSIONS, arnOf, mappedIdentities, outcomeOf, sameOutcome, type Answer, type EffectiveAccess, type Outcome } from './access.js';
import type { Conflict, EntryChange, EntryValue, Refusal, Warning } from './types.js';
import { groupBy } from './objects.js';

const fmt = (m: EntryValue): string => `username=${JSON.stringify(m.username)} groups=[${m.groups.join(', ')}]`;

/** `+ mapRoles arn:… username="…" groups=[…]`, `- …`, `~ … groups: [a] -> [a, b]`. */
export function formatChange(c: EntryChange): string {
  switch (c.op) {
    case 'add':
      return `+ ${c.key} ${c.arn} ${fmt(c.after)}`;
    case 'remove':
      return `- ${c.key} ${c.arn} ${fmt(c.before)}`;
    case 'adopt':
      return `* ${c.key} ${c.arn} adopted: ${fmt(c.before)} -> ${fmt(c.after)}`;
    case 'update': {
      const parts: string[] = [];
      if (c.before.username !== c.after.username) parts.push(`username: ${JSON.stringify(c.before.username)} -> ${JSON.stringify(c.after.username)}`);
      const sameSet = [...new Set(c.before.groups)].sort().join(', ') === [...new Set(c.after.groups)].sort().join(', ');
      if (!sameSet) parts.push(`groups: [${c.before.groups.join(', ')}] -> [${c.after.groups.join(', ')}]`);
      if (parts.length === 0) parts.push('rewritten (canonical form)');
      return `~ ${c.key} ${c.arn} ${parts.join('; ')}`;
    }
  }
}

/** Changes in report order: by key, then ARN (case-insensitively). */
export function sortChanges(changes: EntryChange[]): EntryChange[] {
  const k = (c: EntryChange): string => `${c.key}\0${c.arn.toLowerCase()}`;
  return changes.sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}

export function formatRefusal(r: { code: string; message: string }): string {
  return `✗ refused (${r.code}): ${r.message}`;
}

/** One identity whose access changes. */
export interface AccessChange {
  /** Identity key (lower-cased canonical ARN). */
  id: string;
  /** The identity's ARN as an entry writes it (the key when no entry names it). */
  arn: string;
  /** Versions in which it changes this way (all of them, usually). */
  versions: string[];
  before: Outcome;
  after: Outcome;
}

function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'none':
      return 'none';
    case 'account':
      return 'account-level (its ARN, no groups)';
    case 'mapped':
      return `${JSON.stringify(o.username)} [${o.groups.join(', ')}]`;
    case 'ambiguous':
      return `ambiguous: ${o.options
        .slice(0, 3)
        .map((x) => `${JSON.stringify(x.username)} [${x.groups.join(', ')}]`)
        .join(' | ')}${o.options.length > 3 ? ` | … (${o.options.length} in all)` : ''}`;
  }
}

const sameAnswer = (a: Answer | undefined, b: Answer | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.kind === 'mapped' &&
  b.kind === 'mapped' &&
  (a.grant === b.grant || (a.grant.username === b.grant.username && a.grant.groups === b.grant.groups));

/** Who gains, loses or changes access, as every authenticator version reads it. */
export function diffAccess(before: EffectiveAccess, after: EffectiveAccess, extraIds: readonly string[] = []): AccessChange[] {
  const ids = [...new Set([...mappedIdentities(before), ...mappedIdentities(after), ...extraIds])].sort();
  const out: AccessChange[] = [];
  for (const id of ids) {
    // Fast path: the same entry answers before and after in every version (unchanged entries).
    if (AUTHENTICATOR_VERSIONS.every((v) => sameAnswer(before[v].grants.get(id), after[v].grants.get(id))) && !extraIds.includes(id)) continue;
    const per = AUTHENTICATOR_VERSIONS.map((v) => ({ v, b: outcomeOf(before[v], id), a: outcomeOf(after[v], id) })).filter((x) => !sameOutcome(x.b, x.a));
    // Versions that agree are shown once.
    const groupsOf = groupBy(per, (x) => `${describeOutcome(x.b)}\0${describeOutcome(x.a)}`);
    const arn = arnOf(after, id) ?? arnOf(before, id) ?? id;
    for (const xs of groupsOf.values()) out.push({ id, arn, versions: xs.map((x) => x.v), before: xs[0]!.b, after: xs[0]!.a });
  }
  // mapAccounts reads the same in every version.
  const [v] = AUTHENTICATOR_VERSIONS;
  for (const acct of [...new Set([...before[v].accounts, ...after[v].accounts])].sort()) {
    const b = before[v].accounts.has(acct);
    const a = after[v].accounts.has(acct);
    if (b !== a)
      out.push({
        id: `account ${acct}`,
        arn: `account ${acct}`,
        versions: [...AUTHENTICATOR_VERSIONS],
        before: b ? { kind: 'account' } : { kind: 'none' },
        after: a ? { kind: 'account' } : { kind: 'none' },
      });
  }
  return out;
}

/** `arn:…:user/alice: "alice" [system:masters] → none`. */
export function formatAccessChange(c: AccessChange): string {
  const only = c.versions.length < AUTHENTICATOR_VERSIONS.length ? ` (authenticator ${c.versions.join(', ')})` : '';
  return `${c.arn}: ${describeOutcome(c.before)} → ${describeOutcome(c.after)}${only}`;
}

export interface DiffSummary {
  added: number;
  removed: number;
  updated: number;
  adopted: number;
  conflicts: number;
  unmanaged: number;
  /** Identities gaining, losing and changing access. */
  identitiesAdded: number;
  identitiesRemoved: number;
  identitiesChanged: number;
}

export function summarize(changes: readonly EntryChange[], conflicts: readonly Conflict[], unmanaged: number, access: readonly AccessChange[]): DiffSummary {
  const count = (op: EntryChange['op']): number => changes.filter((c) => c.op === op).length;
  const gained = (c: AccessChange): boolean => c.before.kind === 'none' && c.after.kind !== 'none';
  const lost = (c: AccessChange): boolean => c.before.kind !== 'none' && c.after.kind === 'none';
  const ids = (p: (c: AccessChange) => boolean): number => new Set(access.filter(p).map((c) => c.id)).size;
  return {
    added: count('add'),
    removed: count('remove'),
    updated: count('update'),
    adopted: count('adopt'),
    conflicts: conflicts.length,
    unmanaged,
    identitiesAdded: ids(gained),
    identitiesRemoved: ids(lost),
    identitiesChanged: ids((c) => !gained(c) && !lost(c)),
  };
}

/** The whole report as lines: entry changes, access changes, conflicts, warnings, refusals. */
export function formatReport(plan: {
  changes: readonly EntryChange[];
  access: readonly AccessChange[];
  conflicts: readonly Conflict[];
  warnings: readonly Warning[];
  refusals: readonly Refusal[];
  summary: DiffSummary;
  create: boolean;
}): string[] {
  const lines: string[] = [];
  if (plan.create) lines.push('aws-auth does not exist: it will be created');
  lines.push(...plan.changes.map(formatChange));
  if (plan.access.length) {
    lines.push('access (as aws-iam-authenticator reads it):');
    lines.push(...plan.access.map((c) => `  ${formatAccessChange(c)}`));
  }
  for (const c of plan.conflicts) lines.push(`! conflict ${c.key} ${c.arn}: ${c.reason}`);
  for (const w of plan.warnings) lines.push(`! warning: ${w.message}`);
  lines.push(...plan.refusals.map(formatRefusal));
  const s = plan.summary;
  lines.push(
    `${s.added} to add, ${s.updated} to update, ${s.removed} to remove, ${s.adopted} to adopt, ${s.conflicts} conflicts, ${s.unmanaged} unmanaged entries kept; ` +
      `identities: ${s.identitiesAdded} gain access, ${s.identitiesRemoved} lose it, ${s.identitiesChanged} change`,
  );
  return lines;
}
