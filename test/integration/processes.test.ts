/**
 * The compiled handlers in their own processes, as Lambda runs them: two syncs at once (the
 * reserved concurrency of 1 prevents this in production; here two processes race), and a full
 * sync with debug logging whose every log line is scanned for the token and the credentials.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { planSync } from '../../lib/core/plan.js';
import { toPolicy, validateConfig } from '../../lib/config.js';
import { clients, getAwsAuth, putAwsAuth, stack, unique } from './support/stack.js';
import { createGroup, createUser, createVersionedBucket, ACCOUNT } from './support/seed.js';
import { actAsSyncer, liveDeps, type Identity } from './support/live.js';
import { backupMacKey } from './support/kms.js';

const run = unique('proc');
const tagPrefix = unique('t');
const bucket = unique('proc');
let syncer: Identity;
let config: Record<string, unknown>;
let macKeyArn: string;

function handlerProcess(
  name: string,
  event: unknown,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string; reply: any }> {
  const s = stack();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    AWS_ENDPOINT_URL: s.motoEndpoint,
    AWS_ENDPOINT_URL_EKS: s.eksEndpoint,
    AWS_REGION: s.region,
    AWS_ACCESS_KEY_ID: syncer.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: syncer.credentials.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    BACKUP_BUCKET: bucket,
    BACKUP_MAC_KEY: macKeyArn,
    SYNCER_CONFIG: JSON.stringify(config),
    ...extraEnv,
  };
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--no-warnings', 'test/integration/support/run-handler.mjs', name, JSON.stringify(event)], { env });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('REPLY:'));
      resolve({ code, out, err, reply: line ? JSON.parse(line.slice(6)) : undefined });
    });
  });
}

beforeAll(async () => {
  if (!existsSync('dist/handlers/sync.js')) throw new Error('dist/ missing: npm test builds it first');
  const { iam, s3 } = clients();
  await createVersionedBucket(s3, bucket);
  await createGroup(iam, `${run}-devs`);
  for (let i = 0; i < 5; i++) await createUser(iam, `${run}-u${i}`, { groups: [`${run}-devs`] });
  syncer = await actAsSyncer();
  macKeyArn = (await backupMacKey()).id;
  config = { cluster: stack().cluster, tagPrefix, groupMappings: [{ iamGroup: `${run}-devs`, kubernetesGroups: ['devs'] }] };
}, 60000);

describe('handlers in their own processes', () => {
  test('two sync processes at once: the result equals a single sync, no lost update', async () => {
    const before = await putAwsAuth({ mapAccounts: '- "444455556666"\n' });
    const [a, b] = await Promise.all([handlerProcess('sync', {}), handlerProcess('sync', {})]);
    const outcomes = [a.reply?.outcome, b.reply?.outcome].sort();
    // Either one wrote and the other found nothing to do, or the second lost the race (409),
    // re-read and found nothing to do: never two writes of different content.
    expect(outcomes).toEqual(['replaced', 'unchanged']);
    const deps = await liveDeps(bucket);
    const single = planSync({ current: before, snapshot: await deps.iam.readSnapshot(), policy: toPolicy(validateConfig(config)) });
    expect((await getAwsAuth()).data).toEqual(single.next.data);
    const users = (await getAwsAuth()).data.mapUsers as string;
    for (let i = 0; i < 5; i++) expect(users).toContain(`arn:aws:iam::${ACCOUNT}:user/${run}-u${i}`);
  }, 60000);

  test('a full sync with debug logging never logs the token or the credentials', async () => {
    await putAwsAuth({});
    const r = await handlerProcess('sync', {}, { POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_LOGGER_LOG_EVENT: 'true' });
    expect(r.reply?.outcome).toBe('replaced');
    const lines = r.out.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(3); // structured JSON logs were produced
    for (const l of lines) JSON.parse(l);
    const text = r.out + r.err;
    expect(text).toContain('"backupKey"');
    for (const secret of ['k8s-aws-v1.', 'X-Amz-Signature', 'X-Amz-Credential', syncer.credentials.secretAccessKey, stack().syncerToken, stack().adminToken]) {
      expect(text).not.toContain(secret);
    }
  }, 60000);
});
