/**
 * restore "latest" over the in-memory port: it resolves to the newest backup the syncer wrote,
 * never to a planted (unsigned) object or one dated in the future, logs what it passed over, and
 * names everything it passed over when nothing is left. The adapter's own rules (signatures,
 * clock skew, cost) are tested in test/unit/adapters/backups-s3.test.ts and on moto.
 */
import { describe, expect, test } from '@jest/globals';
import { resolveBackupKey, restoreAwsAuth } from '../../../lib/app/restore.js';
import { InputError } from '../../../lib/errors.js';
import { awsAuth, fixedClock, MemoryAwsAuthStore, MemoryBackupStore, MemoryLog } from '../../support/memory.js';

const NOW = '2026-11-28T12:00:00.000Z';
const good = awsAuth({
  mapRoles: '- rolearn: arn:aws:iam::111122223333:role/nodes\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n',
});
const evil = awsAuth({ mapRoles: '- rolearn: arn:aws:iam::111122223333:role/evil\n  username: evil\n  groups: [system:masters]\n' });

function setup() {
  const store = new MemoryAwsAuthStore(good);
  const backups = new MemoryBackupStore();
  const log = new MemoryLog();
  return { store, backups, log, deps: { store, backups, log, clock: fixedClock(NOW) } };
}
const planted = (key: string, takenAt: string) => ({
  key,
  cluster: 'demo',
  takenAt,
  reason: 'sync' as const,
  resourceVersion: '1',
  eventIds: [],
  sha256: '',
  size: 0,
});

describe('restore "latest"', () => {
  test('passes over newer planted and future-dated objects, logging each, and restores the newest signed backup', async () => {
    const { store, backups, log, deps } = setup();
    const rec = await backups.save({ cluster: 'demo', configMap: store.object!, reason: 'sync', eventIds: [], takenAt: new Date('2026-11-28T10:00:00.000Z') });
    backups.plant(planted('b/demo/zz-planted-future', '2099-01-01T00:00:00.000Z'), evil);
    backups.plant(planted('b/demo/zz-planted-recent', '2026-11-28T11:00:00.000Z'), evil);
    expect(await resolveBackupKey(deps, 'demo', 'latest')).toBe(rec.key);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => [l.extra!.backupKey, l.extra!.reason])).toEqual([
      ['b/demo/zz-planted-recent', 'no signature'],
      ['b/demo/zz-planted-future', 'dated in the future'],
    ]);
    const r = await restoreAwsAuth(deps, { cluster: 'demo', partition: 'aws', backup: 'latest', dryRun: true });
    expect(r.restoredFrom.key).toBe(rec.key);
  });

  test('nothing the syncer wrote: a clear error naming what was passed over, nothing written', async () => {
    const { store, backups, deps } = setup();
    backups.plant(planted('b/demo/planted', '2026-11-28T11:00:00.000Z'), evil);
    const err = await restoreAwsAuth(deps, { cluster: 'demo', partition: 'aws', backup: 'latest' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe('no backup of cluster demo that the syncer wrote was found; passed over: b/demo/planted (no signature)');
    expect(store.writes).toBe(0);
  });

  test('a planted object named explicitly is refused too', async () => {
    const { store, backups, deps } = setup();
    backups.plant(planted('b/demo/planted', '2026-11-28T11:00:00.000Z'), evil);
    await expect(restoreAwsAuth(deps, { cluster: 'demo', partition: 'aws', backup: 'b/demo/planted' })).rejects.toThrow(/carries no signature/);
    expect(store.writes).toBe(0);
  });
});
