/**
 * The handlers' own logic (no AWS needed): events that must not wake a sync, and caller
 * mistakes that must come back as a clear reply without a stack trace. The full flows run
 * against the real local stack in test/integration.
 */
import { describe, expect, test } from '@jest/globals';
import { handler as sync } from '../../../handlers/sync.js';
import { handler as restore } from '../../../handlers/restore.js';
import { handler as backups } from '../../../handlers/backups.js';

describe('handlers', () => {
  test('sync ignores a failed IAM call without loading config or touching AWS', async () => {
    const r = await sync({
      id: 'x',
      source: 'aws.iam',
      'detail-type': 'AWS API Call via CloudTrail',
      detail: { eventName: 'AddUserToGroup', errorCode: 'AccessDenied' },
    });
    expect(r).toMatchObject({ outcome: 'ignored', eventIds: ['x'] });
  });

  test.each([
    [sync, { dryrun: true }, /unknown field\(s\) in the invoke payload: dryrun/],
    [restore, {}, /backup/],
    [restore, { backup: 'latest', extra: 1 }, /unknown field\(s\) extra/],
    [backups, { limit: 0 }, /limit/],
  ])('bad payload → {outcome: "error"} naming the problem', async (h, event, message) => {
    const r = (await (h as (e: unknown) => Promise<unknown>)(event)) as { outcome: string; error: { message: string } };
    expect(r.outcome).toBe('error');
    expect(r.error.message).toMatch(message);
  });

  test('a missing configuration is reported as such', async () => {
    const r = (await sync({ dryRun: true })) as { outcome: string; error: { name: string; message: string } };
    expect(r).toMatchObject({ outcome: 'error', error: { name: 'ConfigError' } });
    expect(r.error.message).toMatch(/SYNCER_CONFIG/);
  });
});

describe('automatic runs fail loudly', () => {
  test('a configuration error on an SQS batch is thrown (so the message is retried and dead-lettered), not returned', async () => {
    const body = JSON.stringify({ id: 'e', source: 'aws.iam', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventName: 'AddUserToGroup' } });
    await expect(sync({ Records: [{ messageId: 'm', body }] })).rejects.toThrow(/SYNCER_CONFIG/);
  });
});
