/**
 * The readable diff: one line per changed entry, for humans (stderr, logs, dry-run replies).
 */
import type { Conflict, EntryChange, Refusal, Warning } from './types.js';

const fmt = (m: { username: string; groups: string[] }): string => `username=${JSON.stringify(m.username)} groups=[${m.groups.join(', ')}]`;

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
      const b = c.before.groups.join(', ');
      const a = c.after.groups.join(', ');
      const sameSet = [...new Set(c.before.groups)].sort().join(', ') === [...new Set(c.after.groups)].sort().join(', ');
      if (!sameSet) parts.push(`groups: [${b}] -> [${a}]`);
      if (parts.length === 0) parts.push('rewritten (canonical form)');
      return `~ ${c.key} ${c.arn} ${parts.join('; ')}`;
    }
  }
}

export function formatRefusal(r: { code: string; message: string }): string {
  return `✗ refused (${r.code}): ${r.message}`;
}

export interface DiffSummary {
  added: number;
  removed: number;
  updated: number;
  adopted: number;
  conflicts: number;
  unmanaged: number;
}

export function summarize(changes: EntryChange[], conflicts: Conflict[], unmanaged: number): DiffSummary {
  const count = (op: EntryChange['op']): number => changes.filter((c) => c.op === op).length;
  return { added: count('add'), removed: count('remove'), updated: count('update'), adopted: count('adopt'), conflicts: conflicts.length, unmanaged };
}

/** The whole report as lines: changes, then conflicts, warnings and refusals. */
export function formatReport(plan: {
  changes: EntryChange[];
  conflicts: Conflict[];
  warnings: Warning[];
  refusals: Refusal[];
  summary: DiffSummary;
  create: boolean;
}): string[] {
  const lines: string[] = [];
  if (plan.create) lines.push('aws-auth does not exist: it will be created');
  lines.push(...plan.changes.map(formatChange));
  for (const c of plan.conflicts) lines.push(`! conflict ${c.key} ${c.arn}: ${c.reason}`);
  for (const w of plan.warnings) lines.push(`! warning: ${w.message}`);
  lines.push(...plan.refusals.map(formatRefusal));
  const s = plan.summary;
  lines.push(
    `${s.added} to add, ${s.updated} to update, ${s.removed} to remove, ${s.adopted} to adopt, ${s.conflicts} conflicts, ${s.unmanaged} unmanaged entries kept`,
  );
  return lines;
}
