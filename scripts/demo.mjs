#!/usr/bin/env node
/**
 * npm run demo — the whole product on the real local stack, in one command:
 * start etcd + kube-apiserver + aws-iam-authenticator + moto, seed IAM, run the real sync
 * handler (it authenticates exactly as in Lambda: DescribeCluster + its own STS-presigned token),
 * show a user gaining and losing access, dry run, restore the first backup, tear down.
 *
 * `npm run demo -- --target access-entries` tells the same story on EKS access entries
 * (ministack's, rendered for the authenticator's DynamicFile backend: test/stack/README.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const targetArg = process.argv.indexOf('--target');
const target = targetArg === -1 ? 'aws-auth' : process.argv[targetArg + 1];
if (!['aws-auth', 'access-entries'].includes(target)) {
  console.error(`demo: --target must be aws-auth or access-entries, not ${JSON.stringify(target)}`);
  process.exit(1);
}
const entries = target === 'access-entries';
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s) => console.log(`\n${bold(`==> ${s}`)}`);
const show = (lines) => lines.forEach((l) => console.log(`    ${l}`));
const sh = (cmd, args, what) => {
  const r = spawnSync(cmd, args, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status})`);
};

step('Preparing: the stack tools (built once into ~/.cache/aws-auth-syncer) and the compiled syncer');
sh('bash', ['test/stack/build.sh'], 'building the stack tools');
if (!existsSync(join(repo, 'dist/handlers/sync.js'))) sh('npx', ['tsc', '-p', 'tsconfig.build.json'], 'compiling');

const stateDir = mkdtempSync(join(tmpdir(), 'aas-demo-'));
let up = false;
const down = () => {
  if (!up) return;
  up = false;
  spawnSync('bash', ['test/stack/stack.sh', 'down', stateDir], { cwd: repo, stdio: 'ignore' });
  rmSync(stateDir, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  down();
  process.exit(130);
});

try {
  step('Starting the local stack (etcd, kube-apiserver, aws-iam-authenticator, moto) on 127.0.0.1');
  up = true;
  sh('bash', ['test/stack/stack.sh', 'up', stateDir], 'starting the stack');
  await demo(JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')));
  step('Done. Tearing the stack down.');
} catch (err) {
  console.error(`\ndemo failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  down();
}

async function demo(stack) {
  const { IAMClient, CreateGroupCommand, CreateUserCommand, AddUserToGroupCommand, RemoveUserFromGroupCommand, CreateRoleCommand, CreateAccessKeyCommand } =
    await import('@aws-sdk/client-iam');
  const { S3Client, CreateBucketCommand, PutBucketVersioningCommand } = await import('@aws-sdk/client-s3');
  const { KMSClient, CreateKeyCommand } = await import('@aws-sdk/client-kms');
  const { SNSClient, CreateTopicCommand, SubscribeCommand } = await import('@aws-sdk/client-sns');
  const { SQSClient, CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
  const { STSClient } = await import('@aws-sdk/client-sts');
  const { createEksToken } = await import('../dist/lib/adapters/eks.js');
  const {
    EKSClient,
    CreateAccessEntryCommand,
    AssociateAccessPolicyCommand,
    ListAccessEntriesCommand,
    DescribeAccessEntryCommand,
    ListAssociatedAccessPoliciesCommand,
  } = await import('@aws-sdk/client-eks');

  const cluster = stack.cluster;
  const region = stack.region;
  const admin = { accessKeyId: 'AKIADEMOADMIN0000000', secretAccessKey: 'demo' };
  const iam = new IAMClient({ region, endpoint: stack.motoEndpoint, credentials: admin });
  const s3 = new S3Client({ region, endpoint: stack.motoEndpoint, credentials: admin, forcePathStyle: true });
  const kms = new KMSClient({ region, endpoint: stack.motoEndpoint, credentials: admin });
  const sha256 = new STSClient({ region, credentials: admin }).config.sha256;
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' }],
  });

  const kube = (method, path, token, body) =>
    new Promise((resolve, reject) => {
      const url = new URL(path, stack.kubeEndpoint);
      const req = request(
        {
          method,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname,
          ca: readFileSync(stack.caFile),
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode, json: text ? JSON.parse(text) : null }));
        },
      );
      req.on('error', reject);
      if (body) req.write(JSON.stringify(body));
      req.end();
    });
  const user = async (name, groups = []) => {
    const arn = (await iam.send(new CreateUserCommand({ UserName: name }))).User.Arn;
    for (const g of groups) await iam.send(new AddUserToGroupCommand({ GroupName: g, UserName: name }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey;
    return { arn, credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey } };
  };
  /** Who does the cluster say this IAM identity is? (its own STS-presigned token → SelfSubjectReview) */
  const whoami = async (who) => {
    const token = await createEksToken({ cluster, region, credentials: who.credentials, sha256, now: new Date() });
    const r = await kube('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    if (r.status !== 201) return `rejected (${r.status} ${r.json?.reason ?? ''})`;
    const u = r.json.status.userInfo;
    return `accepted as ${u.username} groups=[${u.groups.filter((g) => g !== 'system:authenticated').join(', ')}]`;
  };
  /**
   * Poll (a fresh token each time, 250 ms apart, at most 30 s) until the cluster's answer for
   * `who` satisfies `want`: access changes reach the authenticator by its aws-auth watch, not at
   * once. Returns the answer and how long it took, measured.
   */
  const until = async (who, want) => {
    const t0 = Date.now();
    for (;;) {
      const answer = await whoami(who);
      if (want(answer)) return `${answer} (after ${((Date.now() - t0) / 1000).toFixed(1)} s)`;
      if (Date.now() - t0 > 30000) throw new Error(`the cluster still answers "${answer}" 30 s after the sync`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const isAccepted = (a) => a.startsWith('accepted');

  step('Seeding IAM in moto: mapped groups with users, an SSO-style role with a path, a tagged CI role');
  await iam.send(new CreateGroupCommand({ GroupName: 'platform-admins' }));
  await iam.send(new CreateGroupCommand({ GroupName: 'developers' }));
  await user('alice', ['platform-admins']);
  await user('bob', ['developers']);
  const carol = await user('carol');
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'AWSReservedSSO_ReadOnly_0123456789abcdef',
      Path: '/aws-reserved/sso.amazonaws.com/us-east-1/',
      AssumeRolePolicyDocument: trust,
    }),
  );
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'ci-deployer',
      AssumeRolePolicyDocument: trust,
      Tags: [
        { Key: `aws-auth-syncer/${cluster}/groups`, Value: 'deployers' },
        { Key: `aws-auth-syncer/${cluster}/username`, Value: 'ci:{{SessionName}}' },
      ],
    }),
  );
  show([
    'groups: platform-admins (alice) → system:masters, developers (bob) → developers (config: groupMappings)',
    'carol: in no group yet',
    'IAM Identity Center role AWSReservedSSO_ReadOnly_… (path /aws-reserved/sso.amazonaws.com/…, cannot be tagged) → viewers (config: roleMappings)',
    'ci-deployer tagged deployers, username ci:{{SessionName}} (tags: limited by tags.allowedGroups)',
  ]);

  step(
    entries
      ? "The syncer's identity and the existing access entries (the cluster creator's admin entry, a node role)"
      : "The syncer's identity and the existing aws-auth (node role, break-glass admin, the syncer itself)",
  );
  const syncer = await user('aws-auth-syncer');
  const bucket = 'aws-auth-syncer-demo-backups';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  // The HMAC key that signs every backup (serverless.yml creates it in AWS; moto here).
  const macKey = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Description: 'aws-auth-syncer demo backups' })))
    .KeyMetadata.Arn;
  const initial = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system' },
    data: {
      mapRoles: [
        '- rolearn: arn:aws:iam::123456789012:role/eks-node-role',
        '  username: system:node:{{EC2PrivateDNSName}}',
        '  groups: [system:bootstrappers, system:nodes]',
        '- rolearn: arn:aws:iam::123456789012:role/break-glass-admin',
        '  username: break-glass',
        '  groups: [system:masters]',
        '',
      ].join('\n'),
      mapUsers: `- userarn: ${syncer.arn}\n  username: aws-auth-syncer\n  groups: [aws-auth-syncer]\n`,
    },
  };
  const eks = new EKSClient({ region, endpoint: stack.ministackEndpoint, credentials: admin });
  const listEntries = async () => {
    const out = [];
    for (const principalArn of (await eks.send(new ListAccessEntriesCommand({ clusterName: cluster }))).accessEntries ?? []) {
      const e = (await eks.send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn }))).accessEntry;
      const p =
        e.type === 'STANDARD' ? (await eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName: cluster, principalArn }))).associatedAccessPolicies : [];
      const owned = e.tags?.['aws-auth-syncer.io/owned'] === cluster ? ' (syncer)' : '';
      out.push(
        `${principalArn} ${e.type}${owned} username=${e.username} groups=[${e.kubernetesGroups.join(', ')}]${p.length ? ` + ${p.map((x) => `${x.policyArn.split('/').pop()}@${x.accessScope.type}`).join(', ')}` : ''}`,
      );
    }
    return out;
  };
  if (entries) {
    // What EKS has before the syncer: the creator's admin entry (bootstrapped at creation) and a
    // node entry. Neither carries the syncer's tag: it never touches them.
    await iam.send(new CreateRoleCommand({ RoleName: 'cluster-creator', AssumeRolePolicyDocument: trust }));
    await iam.send(new CreateRoleCommand({ RoleName: 'eks-node-role', AssumeRolePolicyDocument: trust }));
    await eks.send(new CreateAccessEntryCommand({ clusterName: cluster, principalArn: 'arn:aws:iam::123456789012:role/cluster-creator' }));
    await eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: cluster,
        principalArn: 'arn:aws:iam::123456789012:role/cluster-creator',
        policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
        accessScope: { type: 'cluster' },
      }),
    );
    await eks.send(new CreateAccessEntryCommand({ clusterName: cluster, principalArn: 'arn:aws:iam::123456789012:role/eks-node-role', type: 'EC2_LINUX' }));
    show([
      `syncer: ${syncer.arn} (needs no Kubernetes access: access entries are EKS API calls)`,
      `cluster authentication mode: API_AND_CONFIG_MAP`,
      ...(await listEntries()).map((l) => `entry: ${l}`),
      `backups: s3://${bucket} (versioned)`,
    ]);
  } else {
    const created = await kube('POST', '/api/v1/namespaces/kube-system/configmaps', stack.adminToken, initial);
    if (created.status !== 201) throw new Error(`could not create the initial aws-auth: ${created.status}`);
    show([
      `syncer: ${syncer.arn} (RBAC: may get/update kube-system/aws-auth only)`,
      'aws-auth: node role, break-glass admin, the syncer',
      `backups: s3://${bucket} (versioned)`,
    ]);
  }

  // The stack's AlarmTopic (serverless.yml) with notifyChanges=true: moto SNS, read back through
  // an SQS subscription as an e-mail subscriber would read it.
  const sns = new SNSClient({ region, endpoint: stack.motoEndpoint, credentials: admin });
  const sqs = new SQSClient({ region, endpoint: stack.motoEndpoint, credentials: admin });
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'aws-auth-syncer-demo-alarms' }))).TopicArn;
  const inbox = (await sqs.send(new CreateQueueCommand({ QueueName: 'aws-auth-syncer-demo-inbox' }))).QueueUrl;
  const inboxArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: inbox, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: inboxArn }));
  /** The messages the topic delivered since the last call: the subject and the JSON body. */
  const delivered = async () => {
    const out = [];
    for (let i = 0; i < 3; i++) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: inbox, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
      for (const m of r.Messages ?? []) {
        const envelope = JSON.parse(m.Body);
        out.push({ subject: envelope.Subject, ...JSON.parse(envelope.Message) });
        await sqs.send(new DeleteMessageCommand({ QueueUrl: inbox, ReceiptHandle: m.ReceiptHandle }));
      }
      if (out.length && !(r.Messages ?? []).length) break;
    }
    return out;
  };

  Object.assign(process.env, {
    SYNCER_CHANGE_TOPIC_ARN: topicArn,
    SYNCER_CONFIG: JSON.stringify({
      cluster,
      target,
      groupMappings: [
        { iamGroup: 'platform-admins', kubernetesGroups: ['system:masters'] },
        { iamGroup: 'developers', kubernetesGroups: ['developers'] },
      ],
      roleMappings: [{ ssoPermissionSet: 'ReadOnly', kubernetesGroups: ['viewers'] }],
    }),
    BACKUP_BUCKET: bucket,
    BACKUP_MAC_KEY: macKey,
    AWS_REGION: region,
    AWS_ENDPOINT_URL: stack.motoEndpoint,
    AWS_ENDPOINT_URL_EKS: stack.eksEndpoint,
    AWS_ACCESS_KEY_ID: syncer.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: syncer.credentials.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    // The handlers print one CloudWatch EMF line per metric group and run; the demo shows replies.
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const { handler: sync } = await import('../dist/handlers/sync.js');
  const { handler: restore } = await import('../dist/handlers/restore.js');
  const { handler: backups } = await import('../dist/handlers/backups.js');
  const report = (r) => {
    show([`outcome: ${r.outcome}${r.backupKey ? `   backup: ${r.backupKey}` : ''}`]);
    if (r.diff?.length) show(r.diff.map((l) => `  ${l}`));
    if (r.error) show([`error: ${r.error.message}`]);
  };
  const iamEvent = (name, id) => ({
    Records: [
      {
        messageId: id,
        body: JSON.stringify({
          id,
          source: 'aws.iam',
          'detail-type': 'AWS API Call via CloudTrail',
          detail: { eventSource: 'iam.amazonaws.com', eventName: name, eventID: `ct-${id}` },
        }),
      },
    ],
  });

  step('Dry run of the sync handler ({"dryRun": true}): the plan, nothing written');
  report(await sync({ dryRun: true }));

  step('First sync (the real handler, as a manual invoke)');
  const first = await sync({});
  report(first);

  step(`carol is in no mapped group: her own token → ${await whoami(carol)}`);

  step('IAM change: AddUserToGroup carol developers → EventBridge → SQS → sync');
  await iam.send(new AddUserToGroupCommand({ GroupName: 'developers', UserName: 'carol' }));
  report(await sync(iamEvent('AddUserToGroup', 'evt-1')));
  show([`carol's token → ${await until(carol, isAccepted)}`]);

  step('A second event with nothing new: no backup, no write');
  report(await sync(iamEvent('TagRole', 'evt-2')));

  step('IAM change: RemoveUserFromGroup carol developers → sync');
  await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'developers', UserName: 'carol' }));
  report(await sync(iamEvent('RemoveUserFromGroup', 'evt-3')));
  show([
    `carol's token → ${await until(carol, (a) => !isAccepted(a))}   ← revocation measured: ${
      entries
        ? 'the sync deleted her access entry, the authenticator reloaded the rendered entries'
        : "the sync wrote aws-auth, the authenticator's watch picked it up"
    }`,
  ]);

  step('Backups (the backups handler), newest first');
  const list = await backups({ limit: 10 });
  show(list.backups.map((b) => `${b.key}  ${entries ? `${b.resourceVersion.slice(1)} owned entries` : `rv=${b.resourceVersion}`}`));

  step(`Restore the first backup (${first.backupKey})`);
  report(await restore({ backup: first.backupKey }));
  if (entries) {
    show(["access entries now (the creator's and the node entry untouched throughout):", ...(await listEntries()).map((l) => `  ${l}`)]);
    return;
  }
  const now = await kube('GET', '/api/v1/namespaces/kube-system/configmaps/aws-auth', stack.adminToken);
  show([
    'aws-auth mapRoles now:',
    ...now.json.data.mapRoles
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`),
  ]);

  const notices = await delivered();
  step(`Change notices on the alarm topic (notifyChanges=true; moto SNS → SQS): ${notices.length}, one per applied change`);
  show(notices.map((n) => `${n.outcome}: +${n.summary.entriesAdded} -${n.summary.entriesRemoved} ~${n.summary.entriesUpdated}  backup ${n.backupKey}`));

  step('Someone edits aws-auth by hand and leaves a YAML anchor; the next IAM event arrives');
  const edited = JSON.parse(JSON.stringify(now.json));
  edited.data.mapRoles = edited.data.mapRoles.replace(
    '- rolearn: arn:aws:iam::123456789012:role/eks-node-role',
    '- &node\n  rolearn: arn:aws:iam::123456789012:role/eks-node-role',
  );
  const put = await kube('PUT', '/api/v1/namespaces/kube-system/configmaps/aws-auth', stack.adminToken, edited);
  if (put.status !== 200) throw new Error(`could not edit aws-auth: ${put.status}`);
  await iam.send(new AddUserToGroupCommand({ GroupName: 'developers', UserName: 'carol' }));
  // The function logs the refusal at WARN with its diff (CloudWatch Logs); the demo shows the
  // notice instead, so that one log line is held back here.
  const writes = [process.stdout.write, process.stderr.write];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = (chunk, ...rest) => (String(chunk).startsWith('{"level":"WARN"') ? true : write(chunk, ...rest));
  }
  try {
    const reply = await sync(iamEvent('AddUserToGroup', 'evt-4'));
    // A refusal is final: the reply (SQS deletes the batch, no retry against the same aws-auth);
    // SyncRefused{trigger=iam} raises RefusedAutomaticSyncAlarm on AlarmTopic (CloudWatch's part:
    // not emulated here) and the refusal notice goes out now.
    if (reply.outcome !== 'refused') throw new Error(`the sync was not refused: ${JSON.stringify(reply)}`);
    show([`the sync replied "refused" (${reply.refusals.map((r) => r.code).join(', ')}); metric SyncRefused trigger=iam → RefusedAutomaticSyncAlarm`]);
  } finally {
    [process.stdout.write, process.stderr.write] = writes;
  }
  const refused = (await delivered()).find((n) => n.outcome === 'refused');
  if (!refused) throw new Error('no refusal notice was delivered');
  show([
    'the refusal, as the topic delivered it:',
    `  subject: ${refused.subject}`,
    ...JSON.stringify(
      { cluster: refused.cluster, outcome: refused.outcome, trigger: refused.trigger, eventIds: refused.eventIds, refusals: refused.refusals },
      null,
      2,
    )
      .split('\n')
      .map((l) => `  ${l}`),
    `  aws-auth unchanged: resourceVersion ${(await kube('GET', '/api/v1/namespaces/kube-system/configmaps/aws-auth', stack.adminToken)).json.metadata.resourceVersion} (the hand edit's: ${put.json.metadata.resourceVersion})`,
  ]);
}
