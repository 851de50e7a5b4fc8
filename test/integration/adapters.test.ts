/**
 * Every adapter against the real services: IAM and S3 on moto, aws-auth on a real
 * kube-apiserver (with the syncer's least-privilege RBAC from deploy/rbac.yaml), through both
 * ways to the API server: node:https (the Lambda) and @kubernetes/client-node's CoreV1Api over
 * a kubeconfig file (the CLI's --kubeconfig).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3BackupStore } from '../../lib/adapters/backups-s3.js';
import { IamAuthorizationDetailsDirectory } from '../../lib/adapters/iam.js';
import { httpsConnection, KubeAwsAuthStore, type KubeConnection } from '../../lib/adapters/kube.js';
import { clientNodeConnection, loadKubeConfig } from '../../lib/adapters/kube-client.js';
import { CoreV1Api } from '@kubernetes/client-node';
import { BackupIntegrityError, ClusterAccessError, WriteConflictError } from '../../lib/errors.js';
import { AWS_AUTH_PATH, clients, kube, putAwsAuth, resetAwsAuth, stack, unique, writeKubeconfig } from './support/stack.js';
import { createGroup, createRole, createUser, createVersionedBucket, mapLimit } from './support/seed.js';
import { backupMacKey, kmsClient } from './support/kms.js';
import { allowSyncerCreate, disallowSyncerCreate } from './support/rbac.js';

const tmp = mkdtempSync(join(tmpdir(), 'aas-adapters-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The two connections the product uses, over the same token. */
const CONNECTIONS: [string, (token: string) => KubeConnection][] = [
  ['node:https (Lambda)', (token) => httpsConnection({ server: stack().kubeEndpoint, caData: stack().caData, token })],
  ['@kubernetes/client-node CoreV1Api over a kubeconfig file (CLI)', (token) => clientNodeConnection(loadKubeConfig({ file: writeKubeconfig(tmp, token) }))],
];

describe('IAM discovery on moto: 1,000+ users, 500+ roles', () => {
  const run = unique('iam');
  const USERS = 1050;
  const ROLES = 520;
  beforeAll(async () => {
    const { iam } = clients();
    await createGroup(iam, `${run}-a`);
    await createGroup(iam, `${run}-b`);
    await mapLimit([...Array(USERS).keys()], 16, (i) =>
      createUser(iam, `${run}-u${i}`, {
        path: i % 10 === 0 ? '/eng/' : undefined,
        groups: [i % 2 ? `${run}-a` : `${run}-b`],
        tags: i % 100 === 0 ? { [`aws-auth-syncer/${run}/groups`]: 'viewers' } : undefined,
      }),
    );
    await mapLimit([...Array(ROLES).keys()], 16, (i) =>
      createRole(iam, `${run}-r${i}`, {
        path: i % 5 === 0 ? '/aws-reserved/sso.amazonaws.com/' : undefined,
        tags: i % 2 ? { [`aws-auth-syncer/${run}/groups`]: 'devs ops' } : undefined,
      }),
    );
  }, 600000);

  test('one paginated pass returns every user, role and group with tags, paths and group lists', async () => {
    const dir = new IamAuthorizationDetailsDirectory(clients().iam, { pageSize: 100 });
    const snap = await dir.readSnapshot();
    const users = snap.users.filter((u) => u.userName.startsWith(`${run}-`));
    const roles = snap.roles.filter((r) => r.roleName.startsWith(`${run}-`));
    expect(users).toHaveLength(USERS);
    expect(roles).toHaveLength(ROLES);
    expect(snap.groups.filter((g) => g.groupName.startsWith(run))).toHaveLength(2);
    const u0 = users.find((u) => u.userName === `${run}-u0`)!;
    expect(u0).toMatchObject({ path: '/eng/', groups: [`${run}-b`], tags: { [`aws-auth-syncer/${run}/groups`]: 'viewers' } });
    const r1 = roles.find((r) => r.roleName === `${run}-r1`)!;
    expect(r1.tags).toEqual({ [`aws-auth-syncer/${run}/groups`]: 'devs ops' });
    expect(roles.find((r) => r.roleName === `${run}-r0`)!.path).toBe('/aws-reserved/sso.amazonaws.com/');
    // Calls grow with pages, not with principals.
    const total = snap.users.length + snap.roles.length + snap.groups.length;
    expect(dir.lastCallCount).toBeLessThanOrEqual(Math.ceil(total / 100) + 1);
    process.stdout.write(`IAM discovery: ${total} principals in ${dir.lastCallCount} call(s)\n`);
  }, 120000);
});

describe('S3 backups on moto (versioned bucket)', () => {
  const bucket = unique('backups');
  beforeAll(async () => {
    await createVersionedBucket(clients().s3, bucket);
  });
  const cm = (rv: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: rv },
    data: { mapRoles: '[]\n' },
  });

  test('save, list newest first, get back exactly; labels; an altered object is refused and the original is still a version', async () => {
    const { s3 } = clients();
    const store = new S3BackupStore(s3, kmsClient(), { bucket, prefix: 'aws-auth-backups', macKeyId: (await backupMacKey()).id });
    const a = await store.save({ cluster: 'c1', configMap: cm('1'), reason: 'sync', eventIds: ['e1'], takenAt: new Date('2026-01-01T00:00:00Z') });
    const b = await store.save({ cluster: 'c1', configMap: cm('2'), reason: 'restore', eventIds: [], takenAt: new Date('2026-01-02T00:00:00Z') });
    await store.save({ cluster: 'other', configMap: cm('3'), reason: 'sync', eventIds: [], takenAt: new Date('2026-01-03T00:00:00Z') });
    await store.markOutcome(a.key, 'replaced');
    expect((await store.list('c1')).map((r) => r.key)).toEqual([b.key, a.key]);
    expect((await store.list('c1', 1)).map((r) => r.key)).toEqual([b.key]);
    const got = await store.get(a.key);
    expect(got.configMap).toEqual(cm('1'));
    expect(got.record).toMatchObject({ cluster: 'c1', resourceVersion: '1', eventIds: ['e1'], sha256: a.sha256 });

    // Someone overwrites the backup body keeping the metadata: the checksum catches it.
    const original = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: a.key }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: a.key, Body: JSON.stringify(cm('666')), Metadata: original.Metadata }));
    await expect(store.get(a.key)).rejects.toBeInstanceOf(BackupIntegrityError);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: a.key }));
    expect(versions.Versions).toHaveLength(2);
  });
});

describe.each(CONNECTIONS)('aws-auth on the real kube-apiserver through %s, as the syncer (least-privilege RBAC)', (_name, connection) => {
  const syncerStore = (token = stack().syncerToken, timeoutMs = 10000) => new KubeAwsAuthStore(async () => connection(token), { timeoutMs });

  test('missing → null; create (opt-in rbac-create-aws-auth.yaml); read exactly; replace with resourceVersion; a real 409 for a stale one', async () => {
    await allowSyncerCreate();
    try {
      await resetAwsAuth();
      const store = syncerStore();
      expect(await store.read()).toBeNull();
      const created = await store.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'aws-auth', namespace: 'kube-system' },
        data: { mapRoles: '[]\n' },
      });
      const read = (await store.read())!;
      expect(read.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
      expect(read.metadata.uid).toBe(created.metadata.uid);
      expect(typeof read.metadata.creationTimestamp).toBe('string'); // as served, not a Date

      const next = structuredClone(read);
      next.data = { mapRoles: '[]\n', mapAccounts: '- "111122223333"\n' };
      const replaced = await store.replace(next);
      expect(replaced.metadata.resourceVersion).not.toBe(read.metadata.resourceVersion);
      expect(replaced.data).toEqual(next.data);
      // `next` still carries the old resourceVersion: the apiserver answers 409.
      await expect(store.replace(next)).rejects.toBeInstanceOf(WriteConflictError);
      await expect(store.create(next)).rejects.toBeInstanceOf(WriteConflictError);
    } finally {
      await disallowSyncerCreate();
    }
  });

  test('read() is the object exactly as the apiserver serves it: the same JSON as a raw GET, every field and value (timestamps stay strings)', async () => {
    // Labels, annotations, binaryData, immutable and managedFields (with their timestamps and
    // fieldsV1) are where a typed model would convert or drop something.
    await putAwsAuth({ mapRoles: '[]\n' }, { 'example.com/note': 'kept', 'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}' });
    const s = stack();
    const served = (await kube('GET', AWS_AUTH_PATH, s.adminToken)).json;
    await kube('PUT', AWS_AUTH_PATH, s.adminToken, {
      ...served,
      metadata: { ...served.metadata, labels: { app: 'aws-auth', 'example.com/tier': '0' } },
      binaryData: { blob: Buffer.from([0, 1, 2, 255]).toString('base64') },
      immutable: false,
    });
    const raw = await kube('GET', AWS_AUTH_PATH, s.adminToken);
    const read = await syncerStore().read();
    expect(JSON.stringify(read)).toBe(JSON.stringify(raw.json));
    expect(typeof read!.metadata.creationTimestamp).toBe('string');
    const managed = read!.metadata.managedFields as { time: unknown; fieldsV1: unknown }[];
    expect(managed.length).toBeGreaterThan(0);
    expect(typeof managed[0]!.time).toBe('string');
    expect(read!.binaryData).toEqual({ blob: 'AAEC/w==' });
  });

  test('a bad token is a clear ClusterAccessError pointing at restore and access entries', async () => {
    await expect(syncerStore('not-a-valid-token').read()).rejects.toThrow(/401 Unauthorized.*restore/);
    await expect(syncerStore('not-a-valid-token').read()).rejects.toBeInstanceOf(ClusterAccessError);
  });

  test('an apiserver that does not answer: a ClusterAccessError after the per-request timeout, marked timedOut', async () => {
    const { freezeApiserver } = await import('./support/faults.js');
    await putAwsAuth({ mapRoles: '[]\n' });
    const store = syncerStore(stack().syncerToken, 1500);
    const thaw = freezeApiserver();
    const t0 = Date.now();
    let err: unknown;
    try {
      err = await store.read().catch((e: unknown) => e);
    } finally {
      thaw();
    }
    expect(err).toBeInstanceOf(ClusterAccessError);
    expect((err as ClusterAccessError).message).toMatch(/no answer within 1500 ms/);
    expect((err as ClusterAccessError).context.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10000);
  });
});

test("why the raw reply: CoreV1Api's typed result for the same object is not the served JSON (timestamps become Dates)", async () => {
  await putAwsAuth({ mapRoles: '[]\n' });
  const raw = await kube('GET', AWS_AUTH_PATH, stack().adminToken);
  const api = loadKubeConfig({ file: writeKubeconfig(tmp, stack().syncerToken) }).makeApiClient(CoreV1Api);
  const typed = await api.readNamespacedConfigMap({ name: 'aws-auth', namespace: 'kube-system' });
  expect(typed.metadata!.creationTimestamp).toBeInstanceOf(Date);
  expect(JSON.stringify(typed)).not.toBe(JSON.stringify(raw.json));
});

describe('the syncer RBAC on the real kube-apiserver', () => {
  test('the syncer may touch aws-auth and nothing else', async () => {
    await putAwsAuth({ mapRoles: '[]\n' });
    const s = stack();
    const token = s.syncerToken;
    expect((await kube('GET', '/api/v1/namespaces/kube-system/configmaps/aws-auth', token)).status).toBe(200);
    await kube('POST', '/api/v1/namespaces/kube-system/configmaps', s.adminToken, { metadata: { name: unique('other') }, data: {} });
    expect((await kube('GET', '/api/v1/namespaces/kube-system/configmaps', token)).status).toBe(403);
    expect((await kube('GET', '/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt', token)).status).toBe(403);
    expect((await kube('GET', '/api/v1/namespaces/kube-system/secrets', token)).status).toBe(403);
    expect((await kube('GET', '/api/v1/namespaces/default/configmaps/aws-auth', token)).status).toBe(403);
    expect((await kube('DELETE', '/api/v1/namespaces/kube-system/configmaps/aws-auth', token)).status).toBe(403);
    expect((await kube('GET', '/api/v1/nodes', token)).status).toBe(403);
  });
});
