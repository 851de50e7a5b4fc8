/**
 * Faults on the real stack. Each case ends by checking that aws-auth is either unchanged or
 * exactly the planned result, and that every replaced version is in S3.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { GetObjectTaggingCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { syncAwsAuth } from '../../lib/app/sync.js';
import type { AwsAuthStore } from '../../lib/app/ports.js';
import { httpsConnection, KubeAwsAuthStore } from '../../lib/adapters/kube.js';
import { S3BackupStore } from '../../lib/adapters/backups-s3.js';
import { createLiveDeps } from '../../lib/adapters/wire.js';
import { silentLog, systemClock } from '../../lib/app/ports.js';
import { toPolicy, validateConfig } from '../../lib/config.js';
import { planSync } from '../../lib/core/plan.js';
import { BackupError, ClusterAccessError, DiscoveryError, WriteConflictError } from '../../lib/errors.js';
import { clients, getAwsAuth, kube, putAwsAuth, stack, unique, AWS_AUTH_PATH } from './support/stack.js';
import { createGroup, createUser, createVersionedBucket, ACCOUNT } from './support/seed.js';
import { closedPort, faultProxy, freezeApiserver, throttlingXml } from './support/faults.js';
import { actAsSyncer, eventually, whoami } from './support/live.js';
import { backupMacKey, kmsClient } from './support/kms.js';
import { StsTokenSource, describeClusterEndpoint } from '../../lib/adapters/eks.js';
import { EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';

const NODE = `- rolearn: arn:aws:iam::${ACCOUNT}:role/eks-nodes\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n`;

interface World {
  cluster: string;
  bucket: string;
  policy: ReturnType<typeof toPolicy>;
  store: (token?: string, server?: string, timeoutMs?: number) => KubeAwsAuthStore;
  deps: (over?: Partial<ReturnType<typeof createLiveDeps>>) => ReturnType<typeof createLiveDeps>;
  backupKeys: () => Promise<string[]>;
}

async function world(): Promise<World> {
  const s = stack();
  const cluster = s.cluster as string;
  const run = unique('f');
  const tagPrefix = unique('t');
  const bucket = unique('faults');
  const { iam, s3 } = clients();
  await createVersionedBucket(s3, bucket);
  await createGroup(iam, `${run}-devs`);
  await createUser(iam, `${run}-dana`, { groups: [`${run}-devs`] });
  await createUser(iam, `${run}-eli`, { groups: [`${run}-devs`] });
  const policy = toPolicy(validateConfig({ cluster, tagPrefix, groupMappings: [{ iamGroup: `${run}-devs`, kubernetesGroups: ['devs'] }] }));
  // A store as wire.ts builds it (real token), optionally pointed elsewhere or with a fixed token.
  const store = (token?: string, server?: string, timeoutMs = 3000) =>
    new KubeAwsAuthStore(
      async () => {
        const ep = await describeClusterEndpoint(new EKSClient({ region: s.region }), cluster);
        const live = await new StsTokenSource(new STSClient({ region: s.region }), cluster, s.region, systemClock).token();
        return httpsConnection({ server: server ?? ep.endpoint, caData: ep.caData, token: token ?? live });
      },
      { timeoutMs },
    );
  // The syncer as in Lambda (own IAM identity, DescribeCluster, STS-presigned token through
  // the real authenticator); individual cases swap one adapter for a faulty one.
  await actAsSyncer();
  const macKey = await backupMacKey();
  const deps = (over = {}) => ({
    ...createLiveDeps({ cluster, region: s.region, bucket, prefix: 'aws-auth-backups', macKey, timeoutMs: 3000, clock: systemClock, log: silentLog }),
    ...over,
  });
  const backupKeys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `aws-auth-backups/${cluster}/` }))).Contents ?? []).map((o) => o.Key!).sort();
  return { cluster, bucket, policy, store, deps, backupKeys };
}

let w: World;
let before: any;
beforeEach(async () => {
  w = await world();
  before = await putAwsAuth({ mapRoles: NODE, mapAccounts: '- "444455556666"\n' });
});
afterEach(() => {
  delete process.env.AWS_ENDPOINT_URL_IAM;
  delete process.env.AWS_ENDPOINT_URL_S3;
});

/** aws-auth is exactly as before this test touched it. */
async function expectUnchanged(): Promise<void> {
  const now = await getAwsAuth();
  expect(now.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  expect(now.data).toEqual(before.data);
}

/** aws-auth holds exactly what a plan over `current` and today's IAM would write. */
async function expectPlanned(current: any): Promise<void> {
  const deps = w.deps();
  const planned = planSync({ current, snapshot: await deps.iam.readSnapshot(), policy: w.policy });
  const now = await getAwsAuth();
  expect(now.data).toEqual(planned.next.data);
}

describe('the API server fails', () => {
  test('down before the read (connection refused): clear error, no backup, nothing written', async () => {
    const port = await closedPort();
    const err = await syncAwsAuth(w.deps({ store: w.store(undefined, `https://127.0.0.1:${port}`) }), { policy: w.policy }).catch((e) => e);
    expect(err).toBeInstanceOf(ClusterAccessError);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(await w.backupKeys()).toEqual([]);
    await expectUnchanged();
  });

  test('slow past the client timeout (process frozen): clear error, no backup, nothing written', async () => {
    const thaw = freezeApiserver();
    try {
      const err = await syncAwsAuth(w.deps({ store: w.store(undefined, undefined, 1500) }), { policy: w.policy }).catch((e) => e);
      expect(err).toBeInstanceOf(ClusterAccessError);
      expect(err.message).toMatch(/no answer within 1500 ms/);
    } finally {
      thaw();
    }
    expect(await w.backupKeys()).toEqual([]);
    await expectUnchanged();
  });

  test('down between the backup and the write: aws-auth unchanged, the backup kept and labelled write-failed', async () => {
    const port = await closedPort();
    const reader = w.store();
    const writer = w.store(undefined, `https://127.0.0.1:${port}`);
    const store: AwsAuthStore = { read: () => reader.read(), create: (n) => writer.create(n), replace: (n) => writer.replace(n) };
    const err = await syncAwsAuth(w.deps({ store }), { policy: w.policy }).catch((e) => e);
    expect(err).toBeInstanceOf(ClusterAccessError);
    await expectUnchanged();
    const keys = await w.backupKeys();
    expect(keys).toHaveLength(1);
    const tags = await clients().s3.send(new GetObjectTaggingCommand({ Bucket: w.bucket, Key: keys[0] }));
    expect(tags.TagSet).toEqual([{ Key: 'outcome', Value: 'write-failed' }]);
    expect((await w.deps().backups.get(keys[0]!)).configMap.data).toEqual(before.data);
  });

  test('frozen during the write: afterwards aws-auth is either unchanged or exactly the plan, and the old version is in S3', async () => {
    const reader = w.store();
    const writer = w.store(undefined, undefined, 1500);
    let thaw: (() => void) | undefined;
    const store: AwsAuthStore = {
      read: () => reader.read(),
      create: (n) => writer.create(n),
      replace: (n) => {
        thaw = freezeApiserver();
        return writer.replace(n);
      },
    };
    const err = await syncAwsAuth(w.deps({ store }), { policy: w.policy }).catch((e) => e);
    thaw?.();
    expect(err).toBeInstanceOf(ClusterAccessError);
    // The request may still be applied once the server runs again: give it a moment.
    await new Promise((r) => setTimeout(r, 1000));
    const now = await getAwsAuth();
    if (now.metadata.resourceVersion === before.metadata.resourceVersion) await expectUnchanged();
    else await expectPlanned(before);
    const keys = await w.backupKeys();
    expect(keys).toHaveLength(1);
    expect((await w.deps().backups.get(keys[0]!)).configMap.data).toEqual(before.data);
  });

  test('an expired token mid-run (16 minutes old, rejected by the authenticator): one fresh token, then success', async () => {
    const s = stack();
    let calls = 0;
    const sixteenMinutesAgo = { now: () => new Date(Date.now() - 16 * 60 * 1000) };
    const store = new KubeAwsAuthStore(
      async () => {
        const clock = ++calls === 1 ? sixteenMinutesAgo : systemClock;
        const ep = await describeClusterEndpoint(new EKSClient({ region: s.region }), s.cluster as string);
        return httpsConnection({
          server: ep.endpoint,
          caData: ep.caData,
          token: await new StsTokenSource(new STSClient({ region: s.region }), s.cluster as string, s.region, clock).token(),
        });
      },
      { timeoutMs: 3000 },
    );
    const r = await syncAwsAuth(w.deps({ store }), { policy: w.policy });
    expect(r.outcome).toBe('replaced');
    expect(calls).toBe(2);
    await expectPlanned(before);
  });

  test("the syncer's own mapping removed by hand: a clear error that says how to get access back, nothing written", async () => {
    before = await putAwsAuth({ mapRoles: NODE }, undefined, false);
    // The authenticator sees the edit within about a second: wait until the syncer is really out.
    const syncer = await actAsSyncer();
    expect(
      (
        await eventually(
          () => whoami(syncer),
          (v) => v.status === 401,
        )
      ).status,
    ).toBe(401);
    const err = await syncAwsAuth(w.deps(), { policy: w.policy }).catch((e) => e);
    expect(err).toBeInstanceOf(ClusterAccessError);
    expect(err.message).toMatch(/401 Unauthorized.*aws-auth mapping may have been removed.*restore.*access entry/);
    expect(await w.backupKeys()).toEqual([]);
    await expectUnchanged();
  });
});

describe('concurrent writers', () => {
  test('another writer between our read and our write: real 409, re-read, re-plan; their change kept', async () => {
    const real = w.store();
    let once = true;
    const store: AwsAuthStore = {
      read: async () => {
        const cm = await real.read();
        if (once) {
          once = false;
          const other = structuredClone(cm) as any;
          other.data.mapAccounts = '- "999988887777"\n';
          expect((await kube('PUT', AWS_AUTH_PATH, stack().adminToken, other)).status).toBe(200);
        }
        return cm;
      },
      create: (n) => real.create(n),
      replace: (n) => real.replace(n),
    };
    const r = await syncAwsAuth(w.deps({ store }), { policy: w.policy });
    expect(r.outcome).toBe('replaced');
    expect(r.attempts).toBe(2);
    const now = await getAwsAuth();
    expect(now.data.mapAccounts).toBe('- "999988887777"\n');
    await expectPlanned({ ...before, data: { ...before.data, mapAccounts: '- "999988887777"\n' } });
    expect(await w.backupKeys()).toHaveLength(2); // each attempt backed up what it meant to replace
  });

  test('a writer that always wins: after the retry bound, fail loudly without writing', async () => {
    const real = w.store();
    let n = 0;
    const store: AwsAuthStore = {
      read: async () => {
        const cm = await real.read();
        const other = structuredClone(cm) as any;
        other.data.mapAccounts = `- "${String(++n).padStart(12, '0')}"\n`;
        await kube('PUT', AWS_AUTH_PATH, stack().adminToken, other);
        return cm;
      },
      create: (x) => real.create(x),
      replace: (x) => real.replace(x),
    };
    const err = await syncAwsAuth(w.deps({ store }), { policy: w.policy, writeAttempts: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(WriteConflictError);
    const now = await getAwsAuth();
    expect(now.data.mapUsers).toBe(before.data.mapUsers); // none of our writes landed
    expect(now.data.mapAccounts).toBe('- "000000000003"\n');
  });

  test('two syncs at once (separate adapters): the result equals one sync, no lost update', async () => {
    const [a, b] = await Promise.all([syncAwsAuth(w.deps(), { policy: w.policy }), syncAwsAuth(w.deps(), { policy: w.policy })]);
    expect([a.outcome, b.outcome].sort()).toEqual(['replaced', 'unchanged']);
    await expectPlanned(before);
  });
});

describe('S3 fails', () => {
  test('bucket missing (PutObject refused): nothing written', async () => {
    const s = stack();
    const backups = new S3BackupStore(new S3Client({ region: s.region, endpoint: s.motoEndpoint, forcePathStyle: true }), kmsClient(), {
      bucket: unique('no-such-bucket'),
      prefix: 'p',
      macKeyId: (await backupMacKey()).id,
    });
    const err = await syncAwsAuth(w.deps({ backups }), { policy: w.policy }).catch((e) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect(err.message).toMatch(/NoSuchBucket.*nothing was written/);
    await expectUnchanged();
  });

  test('S3 unreachable: nothing written', async () => {
    const port = await closedPort();
    const s = stack();
    const backups = new S3BackupStore(
      new S3Client({ region: s.region, endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, maxAttempts: 2 }),
      kmsClient(),
      { bucket: w.bucket, prefix: 'p', macKeyId: (await backupMacKey()).id },
    );
    const err = await syncAwsAuth(w.deps({ backups }), { policy: w.policy }).catch((e) => e);
    expect(err).toBeInstanceOf(BackupError);
    await expectUnchanged();
  });
});

describe('IAM fails', () => {
  test('throttled twice: retried with backoff, then the sync completes', async () => {
    let throttled = 0;
    const proxy = await faultProxy(({ action }) =>
      action === 'GetAccountAuthorizationDetails' && throttled++ < 2 ? { status: 400, body: throttlingXml } : undefined,
    );
    try {
      process.env.AWS_ENDPOINT_URL_IAM = proxy.url;
      const r = await syncAwsAuth(w.deps(), { policy: w.policy });
      expect(r.outcome).toBe('replaced');
      expect(proxy.seen.filter((a) => a === 'GetAccountAuthorizationDetails')).toHaveLength(3);
      await expectPlanned(before);
    } finally {
      await proxy.close();
    }
  }, 60000);

  test('throttled on every attempt: DiscoveryError, no backup, nothing written (never "everyone was deleted")', async () => {
    const proxy = await faultProxy(({ action }) => (action === 'GetAccountAuthorizationDetails' ? { status: 400, body: throttlingXml } : undefined));
    try {
      process.env.AWS_ENDPOINT_URL_IAM = proxy.url;
      const err = await syncAwsAuth(w.deps(), { policy: w.policy }).catch((e) => e);
      expect(err).toBeInstanceOf(DiscoveryError);
      expect(err.message).toMatch(/Throttling/);
    } finally {
      await proxy.close();
    }
    expect(await w.backupKeys()).toEqual([]);
    await expectUnchanged();
  }, 90000);

  test('a truncated page set (IsTruncated without a Marker): DiscoveryError, nothing written', async () => {
    const proxy = await faultProxy(({ action }) =>
      action === 'GetAccountAuthorizationDetails'
        ? { rewrite: (t) => t.replace(/<IsTruncated>false<\/IsTruncated>/, '<IsTruncated>true</IsTruncated>') }
        : undefined,
    );
    try {
      process.env.AWS_ENDPOINT_URL_IAM = proxy.url;
      await expect(syncAwsAuth(w.deps(), { policy: w.policy })).rejects.toThrow(/truncated but has no marker/);
    } finally {
      await proxy.close();
    }
    await expectUnchanged();
  });
});
