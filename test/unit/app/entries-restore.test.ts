/**
 * restoreAccessEntries over in-memory ports: a restore puts the backup's owned entries back, and
 * (being an applied change, the one that may be forced past the guards) is told on the topic like
 * a sync; a dry run is not.
 */
import { describe, expect, test } from '@jest/globals';
import { restoreAccessEntries } from '../../../lib/app/access-entries.js';
import type { AccessEntryStore, BackupRecord, EntriesBackupStore, Notice } from '../../../lib/app/ports.js';
import { applyCalls, OWNED_TAG, type AccessEntry, type AccessEntryCall, type CurrentEntries } from '../../../lib/core/access-entries.js';
import { fixedClock, MemoryLog } from '../../support/memory.js';

const A = 'arn:aws:iam::111122223333';
const entry = (arn: string, owned: boolean): AccessEntry => ({
  principalArn: arn,
  kubernetesGroups: ['dev'],
  username: 'u:x',
  type: 'STANDARD',
  tags: owned ? { [OWNED_TAG]: 'prod' } : {},
});

function setup(current: CurrentEntries, backup: CurrentEntries) {
  let state = current;
  const entries: AccessEntryStore = {
    read: async () => structuredClone(state),
    apply: async (calls: readonly AccessEntryCall[], onApplied) => {
      for (const c of calls) {
        state = applyCalls(state, [c]);
        onApplied?.(c);
      }
    },
  };
  const record = (key: string): BackupRecord => ({
    key,
    cluster: 'prod',
    takenAt: '2026-12-01T00:00:00.000Z',
    reason: 'sync',
    resourceVersion: '',
    eventIds: [],
    sha256: '0'.repeat(64),
    size: 1,
  });
  const saved: string[] = [];
  const backups: EntriesBackupStore = {
    saveEntries: async () => {
      saved.push(`b/prod/${saved.length}`);
      return record(saved[saved.length - 1]!);
    },
    markOutcome: async () => {},
    listEntries: async () => [],
    latestEntries: async () => ({ record: record('b/prod/old'), skipped: [] }),
    getEntries: async (key) => ({ record: record(key), entries: backup }),
  };
  const notices: Notice[] = [];
  const deps = {
    entries,
    backups,
    cluster: { arn: async () => undefined, authenticationMode: async () => 'API' as const },
    clock: fixedClock(),
    log: new MemoryLog(),
    notifier: { publish: async (n: Notice) => void notices.push(n) },
  };
  return { deps, notices, state: () => state, saved };
}

describe('restoreAccessEntries', () => {
  test('an applied restore: the backup’s owned entries back, one notice (operation restore); a dry run tells nothing', async () => {
    const s = setup({ entries: [entry(`${A}:user/bob`, true)], policies: {} }, { entries: [entry(`${A}:user/alice`, true)], policies: {} });
    const dry = await restoreAccessEntries(s.deps, { cluster: 'prod', backup: 'latest', dryRun: true });
    expect(dry.outcome).toBe('planned');
    expect(s.notices).toEqual([]);
    const r = await restoreAccessEntries(s.deps, { cluster: 'prod', backup: 'latest' });
    expect(r.outcome).toBe('applied');
    expect(s.state().entries.map((e) => e.principalArn)).toEqual([`${A}:user/alice`]);
    expect(s.notices.map((n) => n.subject)).toEqual(['aws-auth-syncer: access entries restored on prod (+1 -1 ~0)']);
    expect(JSON.parse(s.notices[0]!.body)).toMatchObject({ target: 'access-entries', operation: 'restore', outcome: 'applied', backupKey: s.saved[0] });
  });
});
