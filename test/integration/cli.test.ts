/**
 * The CLI's live commands on the real stack, in-process through main(argv, io), with the
 * syncer's own IAM identity: `--kubeconfig` (the cluster kubectl would use, through
 * @kubernetes/client-node) and the EKS path (DescribeCluster + STS token through the real
 * authenticator), each with `--output json`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../../cli/main.js';
import { S3BackupStore } from '../../lib/adapters/backups-s3.js';
import { entriesOf } from '../support/entries.js';
import { backupMacKey, kmsClient } from './support/kms.js';
import { clients, getAwsAuth, putAwsAuth, stack, unique, writeKubeconfig } from './support/stack.js';
import { createGroup, createUser, createVersionedBucket } from './support/seed.js';
import { actAsSyncer } from './support/live.js';

const tmp = mkdtempSync(join(tmpdir(), 'aas-cli-live-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => (stdout += t), err: (t) => (stderr += t), readFile: (p) => readFileSync(p, 'utf8') });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

const run = unique('cli');
const bucket = unique('cli');
let configFile: string;
let kubeconfig: string;
const mapped = (cm: unknown) =>
  entriesOf(cm as never)
    .map((e) => e.arn)
    .filter((a) => a.includes(run));

beforeAll(async () => {
  const s = stack();
  const { iam, s3 } = clients();
  await createVersionedBucket(s3, bucket);
  await createGroup(iam, `${run}-devs`);
  await createUser(iam, `${run}-dana`, { groups: [`${run}-devs`] });
  await createUser(iam, `${run}-eli`, { groups: [`${run}-devs`] });
  configFile = join(tmp, 'config.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      cluster: s.cluster,
      region: s.region,
      tagPrefix: unique('t'),
      groupMappings: [{ iamGroup: `${run}-devs`, kubernetesGroups: ['devs'] }],
      backup: { bucket, macKey: (await backupMacKey()).id },
    }),
  );
  // Same least-privilege RBAC as the syncer's STS identity (deploy/rbac.yaml), as a static token.
  kubeconfig = writeKubeconfig(tmp, s.syncerToken);
  await actAsSyncer();
  await putAwsAuth({ mapRoles: '[]\n' });
}, 60000);

describe('aws-auth-syncer live commands on the real stack', () => {
  test('sync --kubeconfig --dry-run --output json: the plan as one document, exit 2, nothing written', async () => {
    const before = await getAwsAuth();
    const r = await cli('sync', '--config', configFile, '--kubeconfig', kubeconfig, '--dry-run', '--output', 'json');
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ outcome: 'planned', cluster: stack().cluster, eventIds: [], summary: { added: 2 } });
    expect(mapped(parse(r.json().manifest))).toHaveLength(2);
    expect(r.stderr).toMatch(/cluster: kubeconfig context local \(https:\/\/127\.0\.0\.1:\d+\)/);
    expect((await getAwsAuth()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  test('sync --kubeconfig: written, and the backup in S3 is the JSON a raw GET served just before', async () => {
    const before = await getAwsAuth();
    const r = await cli('sync', '--config', configFile, '--kubeconfig', kubeconfig, '--output', 'json');
    expect(r.code).toBe(0);
    const reply = r.json();
    expect(reply).toMatchObject({ outcome: 'replaced', attempts: 1 });
    expect(mapped(await getAwsAuth())).toHaveLength(2);
    const backup = await new S3BackupStore(clients().s3, kmsClient(), { bucket, prefix: 'aws-auth-backups', macKeyId: (await backupMacKey()).id }).get(
      reply.backupKey,
    );
    expect(JSON.stringify(backup.configMap)).toBe(JSON.stringify(before));
  });

  test('backups --output json lists that backup', async () => {
    const r = await cli('backups', '--config', configFile, '--output', 'json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ outcome: 'listed', count: 1, backups: [{ reason: 'sync', cluster: stack().cluster }] });
  });

  test('restore --backup latest --kubeconfig --output json puts the version before the sync back', async () => {
    const r = await cli('restore', '--config', configFile, '--kubeconfig', kubeconfig, '--backup', 'latest', '--output', 'json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ outcome: 'replaced', restoredFrom: expect.stringContaining('-sync.json') });
    expect(mapped(await getAwsAuth())).toHaveLength(0);
  });

  test('sync --dry-run without --kubeconfig goes the EKS way (DescribeCluster, STS token through the authenticator)', async () => {
    const r = await cli('sync', '--config', configFile, '--dry-run', '--output', 'json');
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ outcome: 'planned', summary: { added: 2 } });
    expect(r.stderr).not.toMatch(/kubeconfig context/);
  });

  test('a kubeconfig whose token the cluster rejects: an {"outcome": "error"} document naming the 401, exit 1', async () => {
    const r = await cli('sync', '--config', configFile, '--kubeconfig', writeKubeconfig(tmp, 'not-a-valid-token'), '--dry-run', '--output', 'json');
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({
      outcome: 'error',
      error: { name: 'ClusterAccessError', message: expect.stringMatching(/kubeconfig user syncer's token \(401 Unauthorized\)/) },
    });
  });
});
