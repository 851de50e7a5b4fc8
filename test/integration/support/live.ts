/**
 * The syncer as it runs in Lambda: its own IAM identity (an IAM user with an access key in
 * moto), the adapters wired by lib/adapters/wire.ts, DescribeCluster through the EKS proxy and
 * its own STS-presigned token, verified by the real aws-iam-authenticator. It gets in only
 * through its own aws-auth entry (group aws-auth-syncer) and the RBAC in deploy/rbac.yaml.
 */
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { createLiveDeps, type LiveDeps } from '../../../lib/adapters/wire.js';
import { createEksToken } from '../../../lib/adapters/eks.js';
import { silentLog, systemClock, type Log } from '../../../lib/app/ports.js';
import { backupMacKey } from './kms.js';
import { clients, kube, stack, unique, useMoto } from './stack.js';

export interface Identity {
  arn: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** An IAM user with an access key. */
export async function iamUserWithKey(name: string): Promise<Identity> {
  const { iam } = clients();
  const arn = (await iam.send(new CreateUserCommand({ UserName: name }))).User!.Arn!;
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { arn, credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } };
}

let syncer: Promise<Identity> | undefined;
/** The syncer's own identity (one per test file). */
export function syncerIdentity(): Promise<Identity> {
  return (syncer ??= iamUserWithKey(unique('aws-auth-syncer')));
}

/** The syncer's own aws-auth entry, as an operator bootstraps it. */
export async function syncerEntry(): Promise<string> {
  const { arn } = await syncerIdentity();
  return `- userarn: ${arn}\n  username: aws-auth-syncer\n  groups:\n    - aws-auth-syncer\n`;
}

/** Point this process's AWS SDK at moto as the syncer. */
export async function actAsSyncer(): Promise<Identity> {
  const id = await syncerIdentity();
  useMoto(id.credentials);
  return id;
}

export async function liveDeps(bucket: string, log: Log = silentLog, timeoutMs = 10000): Promise<LiveDeps> {
  await actAsSyncer();
  const s = stack();
  return createLiveDeps({
    cluster: s.cluster as string,
    region: s.region,
    bucket,
    prefix: 'aws-auth-backups',
    macKey: await backupMacKey(),
    timeoutMs,
    clock: systemClock,
    log,
  });
}

const sha256 = () => new STSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }).config.sha256;

/** What the cluster says an identity is: its own STS-presigned token → SelfSubjectReview. */
export async function whoami(id: Identity, opts: { now?: Date; cluster?: string } = {}): Promise<{ status: number; username?: string; groups?: string[] }> {
  const s = stack();
  const token = await createEksToken({
    cluster: opts.cluster ?? (s.cluster as string),
    region: s.region,
    credentials: id.credentials,
    sha256: sha256(),
    now: opts.now ?? new Date(),
  });
  const r = await kube('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
  });
  if (r.status !== 201) return { status: r.status };
  const u = r.json.status.userInfo;
  return { status: r.status, username: u.username, groups: (u.groups as string[]).filter((g) => g !== 'system:authenticated') };
}

/** The authenticator picks up aws-auth changes within about a second: poll, don't sleep. */
export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  let last = await probe();
  while (!ok(last) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}
