/**
 * Who gets into the cluster, end to end through the chain EKS itself runs: an identity's own
 * STS-presigned token → kube-apiserver token webhook → the real aws-iam-authenticator → the
 * mapping it reads from aws-auth → RBAC. aws-auth is written by the real Lambda handlers
 * (handlers/sync.ts, handlers/restore.ts), which authenticate as the syncer's own IAM identity.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { AddUserToGroupCommand, CreateAccessKeyCommand, RemoveUserFromGroupCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { entriesOf } from '../support/entries.js';
import { clients, getAwsAuth, kube, putAwsAuth, stack, unique, AWS_AUTH_PATH } from './support/stack.js';
import { createGroup, createRole, createUser, createVersionedBucket, ACCOUNT } from './support/seed.js';
import { actAsSyncer, eventually, syncerEntry, whoami, type Identity } from './support/live.js';
import { backupMacKey } from './support/kms.js';

const run = unique('acc');
const tagPrefix = unique('t');
const bucket = unique('access');
let sync: (e: unknown) => Promise<any>;
let restore: (e: unknown) => Promise<any>;
const ids: Record<string, Identity> = {};

async function userWithKey(name: string, groups: string[]): Promise<Identity> {
  const { iam } = clients();
  const arn = await createUser(iam, name, { groups });
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { arn, credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } };
}

async function assume(who: Identity, roleArn: string, session: string): Promise<Identity> {
  const sts = new STSClient({ region: stack().region, endpoint: stack().motoEndpoint, credentials: who.credentials });
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: session }))).Credentials!;
  return { arn: roleArn, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
}

const iamEvent = (eventName: string) => {
  const id = unique('evt');
  return {
    Records: [
      {
        messageId: id,
        body: JSON.stringify({
          id,
          source: 'aws.iam',
          'detail-type': 'AWS API Call via CloudTrail',
          detail: { eventSource: 'iam.amazonaws.com', eventName, eventID: `ct-${id}` },
        }),
      },
    ],
  };
};
const accepted = (v: { status: number }) => v.status === 201;
const rejected = (v: { status: number }) => v.status === 401;

let nodeRoleArn: string;
let nodeEntryText: string;

beforeAll(async () => {
  const { iam, s3 } = clients();
  const s = stack();
  await createVersionedBucket(s3, bucket);
  await createGroup(iam, `${run}-admins`);
  await createGroup(iam, `${run}-devs`);
  ids.alice = await userWithKey(`${run}-alice`, [`${run}-admins`]);
  ids.bob = await userWithKey(`${run}-bob`, [`${run}-devs`]);
  ids.carol = await userWithKey(`${run}-carol`, []);
  await createRole(iam, `${run}-deployer`, { tags: { [`${tagPrefix}/${s.cluster}/groups`]: 'deployers' } });
  await createRole(iam, `${run}-sso`, { path: '/aws-reserved/sso.amazonaws.com/eu-west-1/', tags: { [`${tagPrefix}/${s.cluster}/groups`]: 'viewers' } });
  nodeRoleArn = await createRole(iam, `${run}-nodes`);
  // A node mapping as EKS writes it, except that the username uses {{SessionName}}: the real
  // {{EC2PrivateDNSName}} makes the authenticator call EC2 DescribeInstances, which is not here.
  nodeEntryText = `- rolearn: ${nodeRoleArn}\n  username: system:node:{{SessionName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n`;
  await putAwsAuth({ mapRoles: nodeEntryText });

  await actAsSyncer();
  process.env.BACKUP_BUCKET = bucket;
  process.env.BACKUP_MAC_KEY = (await backupMacKey()).id;
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  process.env.SYNCER_CONFIG = JSON.stringify({
    cluster: s.cluster,
    tagPrefix,
    groupMappings: [
      { iamGroup: `${run}-admins`, kubernetesGroups: ['system:masters'] },
      { iamGroup: `${run}-devs`, kubernetesGroups: ['devs'] },
    ],
    guards: { maxRemovals: 5 },
  });
  sync = (await import('../../handlers/sync.js')).handler;
  restore = (await import('../../handlers/restore.js')).handler;
}, 120000);

describe('access through the real aws-iam-authenticator', () => {
  test('first sync (manual invoke): mapped users get in with their groups; an unmapped user does not', async () => {
    const r = await sync({});
    expect(r.outcome).toBe('replaced');
    expect(await eventually(() => whoami(ids.alice!), accepted)).toEqual({ status: 201, username: `${run}-alice`, groups: ['system:masters'] });
    expect(await eventually(() => whoami(ids.bob!), accepted)).toEqual({ status: 201, username: `${run}-bob`, groups: ['devs'] });
    expect((await whoami(ids.carol!)).status).toBe(401);
  });

  test('a user added to a mapped group gets in after the IAM event; removed, she is rejected', async () => {
    const { iam } = clients();
    await iam.send(new AddUserToGroupCommand({ GroupName: `${run}-devs`, UserName: `${run}-carol` }));
    expect((await sync(iamEvent('AddUserToGroup'))).outcome).toBe('replaced');
    expect(await eventually(() => whoami(ids.carol!), accepted)).toEqual({ status: 201, username: `${run}-carol`, groups: ['devs'] });
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: `${run}-devs`, UserName: `${run}-carol` }));
    expect((await sync(iamEvent('RemoveUserFromGroup'))).outcome).toBe('replaced');
    expect((await eventually(() => whoami(ids.carol!), rejected)).status).toBe(401);
  });

  test('a tagged role assumed with a session name: the username carries the session', async () => {
    const s = await assume(ids.bob!, `arn:aws:iam::${ACCOUNT}:role/${run}-deployer`, 'deploy-42');
    expect(await eventually(() => whoami(s), accepted)).toEqual({
      status: 201,
      username: `arn:aws:sts::${ACCOUNT}:assumed-role/${run}-deployer/deploy-42`,
      groups: ['deployers'],
    });
  });

  test('an SSO-style role with a path is mapped without it and accepted', async () => {
    const entry = entriesOf(await getAwsAuth()).find((e) => e.arn.includes(`${run}-sso`))!;
    expect(entry.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/${run}-sso`);
    const s = await assume(ids.bob!, `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/${run}-sso`, 'jane@example.com');
    const me = await whoami(s);
    expect(me.status).toBe(201);
    expect(me.groups).toEqual(['viewers']);
  });

  test('the node entry survives every sync and the node identity keeps getting in', async () => {
    const node = await assume(ids.bob!, nodeRoleArn, 'i-0123456789abcdef0');
    expect(await whoami(node)).toEqual({ status: 201, username: 'system:node:i-0123456789abcdef0', groups: ['system:bootstrappers', 'system:nodes'] });
    expect((await getAwsAuth()).data.mapRoles.startsWith(nodeEntryText)).toBe(true);
  });

  test('stale or foreign tokens: older than 15 minutes, or for another cluster, are rejected', async () => {
    expect((await whoami(ids.alice!)).status).toBe(201);
    expect((await whoami(ids.alice!, { now: new Date(Date.now() - 16 * 60 * 1000) })).status).toBe(401);
    expect((await whoami(ids.alice!, { cluster: 'another-cluster' })).status).toBe(401);
  });
});

describe('the lock-out story', () => {
  test('removing the last admin from IAM is refused: aws-auth unchanged, the admin still gets in', async () => {
    const { iam } = clients();
    const before = await getAwsAuth();
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: `${run}-admins`, UserName: `${run}-alice` }));
    try {
      // A refusal is final, also for an automatic run: the reply (not retried), counted and told.
      const auto = await sync(iamEvent('RemoveUserFromGroup'));
      expect(auto.outcome).toBe('refused');
      expect(auto.refusals.map((r: { message: string }) => r.message)).toEqual([expect.stringMatching(/no identity would still get system:masters/)]);
      const dry = await sync({ dryRun: true });
      expect(dry.outcome).toBe('refused');
      expect(dry.refusals.map((r: { code: string }) => r.code)).toEqual(['last-masters']);
      expect((await getAwsAuth()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
      expect((await whoami(ids.alice!)).status).toBe(201);
    } finally {
      await iam.send(new AddUserToGroupCommand({ GroupName: `${run}-admins`, UserName: `${run}-alice` }));
    }
  });

  test('a bad manual edit drops the admins and the nodes; restore from S3 brings access back', async () => {
    const good = await getAwsAuth();
    const node = await assume(ids.bob!, nodeRoleArn, 'i-0fedcba9876543210');
    expect((await whoami(node)).status).toBe(201);
    // The classic slip: someone replaces aws-auth with their own idea of it (the syncer's entry
    // survives here; if it did not, an access entry for the syncer's role is what keeps it in).
    const bad = { ...good, data: { mapUsers: await syncerEntry() } };
    expect((await kube('PUT', AWS_AUTH_PATH, stack().adminToken, bad)).status).toBe(200);
    expect((await eventually(() => whoami(ids.alice!), rejected)).status).toBe(401);
    expect((await eventually(() => whoami(node), rejected)).status).toBe(401);

    // The newest backup is the version the syncer's last write replaced: nodes and admins in it.
    const r = await restore({ backup: 'latest' });
    expect(r.outcome).toBe('replaced');
    expect(r.backupKey).toMatch(/-restore\.json$/); // the broken version, kept before restoring
    expect(await eventually(() => whoami(node), accepted)).toMatchObject({ status: 201, username: 'system:node:i-0fedcba9876543210' });
    expect(await eventually(() => whoami(ids.alice!), accepted)).toMatchObject({ status: 201, groups: ['system:masters'] });
    // A sync then brings the managed entries in line with IAM again; nodes stay.
    await sync({});
    expect((await whoami(ids.carol!)).status).toBe(401);
    expect((await whoami(node)).status).toBe(201);

    // Putting the broken version back is refused by the guards: it would drop the nodes and the admins.
    const brokenKey = r.backupKey as string;
    const before = await getAwsAuth();
    const refused = await restore({ backup: brokenKey });
    expect(refused.outcome).toBe('refused');
    expect(refused.refusals.map((x: { code: string }) => x.code).sort()).toEqual(['last-masters', 'node-mapping']);
    expect((await getAwsAuth()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });
});
