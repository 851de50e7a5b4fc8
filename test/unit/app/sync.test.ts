import { describe, expect, test } from '@jest/globals';
import { syncAwsAuth, type SyncDeps } from '../../../lib/app/sync.js';
import { restoreAwsAuth } from '../../../lib/app/restore.js';
import { entriesOf } from '../../support/entries.js';
import type { SyncPolicy } from '../../../lib/core/policy.js';
import { DEFAULT_ROLE_USERNAME } from '../../../lib/core/policy.js';
import { BackupError, ClusterAccessError, GuardRefusedError, WriteConflictError } from '../../../lib/errors.js';
import { awsAuth, fixedClock, iam, MemoryAwsAuthStore, MemoryBackupStore, MemoryLog, StaticIam } from '../../support/memory.js';

const NODE_ROLES = `- rolearn: arn:aws:iam::111122223333:role/nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
- rolearn: arn:aws:iam::111122223333:role/break-glass
  username: break-glass
  groups:
    - system:masters
`;

const policy: SyncPolicy = {
  cluster: 'demo',
  partition: 'aws',
  groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['dev'] }],
  roleMappings: [],
  tagPrefix: 'aws-auth-syncer',
  tags: { allowedGroups: ['*'] },
  roleUsername: DEFAULT_ROLE_USERNAME,
  userUsername: '{userName}',
  adoptUnmanaged: false,
  guards: { maxRemovals: 2 },
};

function setup(current = awsAuth({ mapRoles: NODE_ROLES, mapAccounts: '- "444455556666"\n' })) {
  const store = new MemoryAwsAuthStore(current);
  const backups = new MemoryBackupStore();
  const directory = new StaticIam(
    iam({
      groups: ['devs'],
      users: [
        { name: 'alice', groups: ['devs'] },
        { name: 'bob', groups: ['devs'] },
      ],
    }),
  );
  const log = new MemoryLog();
  const deps: SyncDeps = { iam: directory, store, backups, clock: fixedClock(), log };
  return { store, backups, directory, log, deps };
}

const users = (store: MemoryAwsAuthStore) => entriesOf(store.object, 'mapUsers').map((e) => e.arn);

describe('syncAwsAuth', () => {
  test('first sync backs up the exact current object, then writes; unmanaged keys and entries untouched', async () => {
    const { store, backups, deps } = setup();
    const before = structuredClone(store.object!);
    const r = await syncAwsAuth(deps, { policy, eventIds: ['ev-1'] });
    expect(r.outcome).toBe('replaced');
    expect(store.writes).toBe(1);
    expect(users(store)).toEqual(['arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:user/bob']);
    expect(store.object!.data!.mapAccounts).toBe(before.data!.mapAccounts);
    expect(store.object!.data!.mapRoles).toBe(NODE_ROLES);
    const saved = backups.objects.get(r.backupKey!)!;
    expect(JSON.parse(saved.body)).toEqual(before);
    expect(saved.record.eventIds).toEqual(['ev-1']);
    expect(backups.outcomes.get(r.backupKey!)).toBe('replaced');
  });

  test('second run on the same inputs: no backup, no write', async () => {
    const { store, backups, deps } = setup();
    await syncAwsAuth(deps, { policy });
    const r = await syncAwsAuth(deps, { policy });
    expect(r.outcome).toBe('unchanged');
    expect(store.writes).toBe(1);
    expect(backups.objects.size).toBe(1);
  });

  test('missing ConfigMap is created, with no backup (nothing is replaced)', async () => {
    const { store, backups, deps } = setup(null as never);
    store.object = null;
    const r = await syncAwsAuth(deps, { policy });
    expect(r.outcome).toBe('created');
    expect(backups.objects.size).toBe(0);
    expect(users(store)).toHaveLength(2);
  });

  test('dry run returns the plan and writes nothing', async () => {
    const { store, backups, deps } = setup();
    const r = await syncAwsAuth(deps, { policy, dryRun: true });
    expect(r.outcome).toBe('planned');
    expect(r.plan.report.filter((l) => l.startsWith('+ '))).toHaveLength(2);
    expect(store.writes).toBe(0);
    expect(backups.objects.size).toBe(0);
  });

  test("a 409 from a concurrent writer: re-read, re-plan, keep the other writer's change", async () => {
    const { store, backups, deps } = setup();
    let once = false;
    store.beforeWrite = (s) => {
      if (once) return;
      once = true;
      s.externalEdit((cm) => {
        cm.data!.mapAccounts = '- "999988887777"\n';
      });
    };
    const r = await syncAwsAuth(deps, { policy });
    expect(r.outcome).toBe('replaced');
    expect(r.attempts).toBe(2);
    expect(store.object!.data!.mapAccounts).toBe('- "999988887777"\n');
    expect(users(store)).toHaveLength(2);
    // Each attempt backed up what it was about to replace; the first is labelled write-failed.
    expect([...backups.outcomes.values()].sort()).toEqual(['replaced', 'write-failed']);
  });

  test('conflicts on every attempt: fails loudly after the bound, without a write', async () => {
    const { store, deps } = setup();
    store.beforeWrite = (s) => s.externalEdit(() => {});
    await expect(syncAwsAuth(deps, { policy, writeAttempts: 3 })).rejects.toBeInstanceOf(WriteConflictError);
    expect(store.writes).toBe(0);
  });

  test('backup failure: nothing is written', async () => {
    const { store, backups, deps } = setup();
    backups.failSave = new Error('AccessDenied');
    const before = structuredClone(store.object);
    await expect(syncAwsAuth(deps, { policy })).rejects.toBeInstanceOf(BackupError);
    expect(store.object).toEqual(before);
    expect(store.writes).toBe(0);
  });

  test('write failure after the backup: aws-auth unchanged, the backup labelled write-failed', async () => {
    const { store, backups, deps } = setup();
    store.failWrite = new ClusterAccessError('apiserver gone');
    const before = structuredClone(store.object);
    await expect(syncAwsAuth(deps, { policy })).rejects.toBeInstanceOf(ClusterAccessError);
    expect(store.object).toEqual(before);
    expect([...backups.outcomes.values()]).toEqual(['write-failed']);
  });

  test('guard refusal: nothing written, nothing backed up; dry run reports it instead of throwing', async () => {
    const { store, backups, directory, deps } = setup();
    await syncAwsAuth(deps, { policy });
    directory.snapshot = iam({ groups: ['devs'] });
    await expect(syncAwsAuth(deps, { policy })).rejects.toBeInstanceOf(GuardRefusedError);
    expect(store.writes).toBe(1);
    expect(backups.objects.size).toBe(1);
    const dry = await syncAwsAuth(deps, { policy, dryRun: true });
    expect(dry.outcome).toBe('refused');
    expect(dry.plan.refusals.map((r) => r.code)).toContain('empty-discovery');
  });

  test('membership change removes only that user', async () => {
    const { store, directory, deps } = setup();
    await syncAwsAuth(deps, { policy });
    directory.snapshot = iam({ groups: ['devs'], users: [{ name: 'alice', groups: ['devs'] }, { name: 'bob' }] });
    const r = await syncAwsAuth(deps, { policy });
    expect(r.plan.report[0]).toBe('- mapUsers arn:aws:iam::111122223333:user/bob username="bob" groups=[dev]');
    expect(users(store)).toEqual(['arn:aws:iam::111122223333:user/alice']);
  });

  test('the plan log carries the diff, the warnings and the event ids', async () => {
    const { log, directory, deps } = setup();
    directory.snapshot = iam({ groups: ['devs'], users: [{ name: 'alice', groups: ['devs'], tags: { 'aws-auth-syncer/demo/username': 'system:admin' } }] });
    await syncAwsAuth(deps, { policy, eventIds: ['e-9'] });
    const plan = log.lines.find((l) => l.message === 'plan')!;
    expect(plan.extra!.eventIds).toEqual(['e-9']);
    expect((plan.extra!.diff as string[]).some((l) => l.startsWith('! warning:') && /reserved/.test(l))).toBe(true);
  });
});

describe('restoreAwsAuth', () => {
  test('restores a backup after a bad manual edit, backing up the bad version first', async () => {
    const { store, backups, deps } = setup();
    const first = await syncAwsAuth(deps, { policy });
    store.externalEdit((cm) => {
      cm.data!.mapUsers = '- userarn: arn:aws:iam::111122223333:user/mallory\n  username: mallory\n  groups: [system:masters]\n';
    });
    const bad = structuredClone(store.object!);
    const latest = await syncAwsAuth(deps, { policy, dryRun: true });
    expect(latest.outcome).toBe('planned');
    const r = await restoreAwsAuth(deps, { cluster: 'demo', partition: 'aws', backup: first.backupKey! });
    expect(r.outcome).toBe('replaced');
    expect(store.object!.data).toEqual((JSON.parse(backups.objects.get(first.backupKey!)!.body) as { data?: unknown }).data);
    expect(JSON.parse(backups.objects.get(r.backupKey!)!.body)).toEqual(bad);
  });

  test('"latest" picks the newest backup; a backup that drops node entries is refused unless forced', async () => {
    const { store, backups, deps } = setup();
    await backups.save({ cluster: 'demo', configMap: awsAuth({ mapUsers: '[]\n' }), reason: 'sync', eventIds: [], takenAt: deps.clock.now() });
    await expect(restoreAwsAuth(deps, { cluster: 'demo', partition: 'aws', backup: 'latest' })).rejects.toBeInstanceOf(GuardRefusedError);
    expect(store.writes).toBe(0);
    const forced = await restoreAwsAuth(deps, { cluster: 'demo', partition: 'aws', backup: 'latest', force: true });
    expect(forced.outcome).toBe('replaced');
  });

  test('an altered backup is refused', async () => {
    const { store, backups, deps } = setup();
    const rec = await backups.save({ cluster: 'demo', configMap: store.object!, reason: 'sync', eventIds: [], takenAt: new Date() });
    const o = backups.objects.get(rec.key)!;
    o.body = o.body.replace('break-glass', 'evil-glass');
    await expect(restoreAwsAuth(deps, { cluster: 'demo', partition: 'aws', backup: rec.key })).rejects.toThrow(/altered/);
    expect(store.writes).toBe(0);
  });
});
