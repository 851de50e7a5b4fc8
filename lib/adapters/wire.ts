/**
 * Composition root for live runs (Lambda and CLI): SDK clients → adapters → ports.
 * Endpoints come from the SDK's own configuration (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>),
 * so the same code runs against AWS and against the local test stack.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { systemClock, type ClusterInfo, type Clock, type Log } from '../app/ports.js';
import type { RuntimeSettings } from '../config.js';
import type { SyncDeps } from '../app/sync.js';
import { EksAccessEntryStore } from './access-entries.js';
import { assumedRoleCredentials } from './assume-role.js';
import { S3BackupStore } from './backups-s3.js';
import { callerArn, describeClusterEndpoint, StsTokenSource } from './eks.js';
import { IamAuthorizationDetailsDirectory } from './iam.js';
import { httpsConnection, KubeAwsAuthStore, type KubeConnection } from './kube.js';
import { SnsNotifier, topicRegion } from './sns.js';

export interface LiveSettings {
  cluster: string;
  /** Region of the EKS cluster (and of the STS endpoint the token is presigned for). */
  region: string;
  bucket: string;
  prefix: string;
  /** KMS HMAC key that signs and verifies backups, and its region (the stack's). */
  macKey: { id: string; region: string };
  timeoutMs: number;
  clock: Clock;
  log: Log;
  /** AWS profile for credentials (the CLI's --profile); unset: the SDK's default chain, AWS_PROFILE included. */
  profile?: string;
  /**
   * How to reach the API server. Default, as in Lambda: EKS DescribeCluster for endpoint and
   * CA, an STS-presigned token, node:https. The CLI passes a kubeconfig connection instead.
   */
  connect?: () => Promise<KubeConnection>;
  /** Who we are in cluster error messages. */
  identity?: string;
  /** SNS topic told about every applied change (none when unset). */
  changeTopicArn?: string;
  /** Wraps every SDK client (Lambda: Powertools Tracer's captureAWSv3Client, for X-Ray). */
  instrument?: <C extends object>(client: C) => C;
  /**
   * A role to assume for the cluster (one in another account; config `clusters[].roleArn`): EKS
   * DescribeCluster, the bearer token and the caller identity use its session. IAM, S3, KMS and
   * SNS stay with the syncer's own identity: IAM and the backups live in the syncer's account.
   */
  roleArn?: string;
}

export interface LiveDeps extends SyncDeps {
  /** The identity the syncer runs as (resolved once, lazily). */
  selfArn(): Promise<string>;
  entries: EksAccessEntryStore;
  backups: S3BackupStore;
  cluster: Required<ClusterInfo>;
}

/** Live dependencies for a validated configuration (Lambda and CLI alike; `extra` is the CLI's, and the Lambda's tracing). */
export function liveDepsFor(
  settings: RuntimeSettings,
  log: Log,
  clock: Clock = systemClock,
  extra: Pick<LiveSettings, 'profile' | 'connect' | 'identity' | 'instrument' | 'roleArn'> = {},
): LiveDeps {
  const { config } = settings;
  return createLiveDeps({
    ...extra,
    cluster: config.cluster,
    region: settings.region,
    bucket: settings.bucket,
    prefix: config.backup.prefix,
    macKey: settings.macKey,
    timeoutMs: config.kubernetes.timeoutMs,
    clock,
    log,
    changeTopicArn: settings.changeTopicArn,
  });
}

/**
 * Timeouts of every AWS call (the SDK sets none): a connection that never opens, or an answer
 * that never comes — a private subnet without the endpoint or NAT it needs — fails the call (and
 * is retried) instead of holding the run until Lambda kills it. IAM's large pages get longer.
 */
export const AWS_HTTP = { connectionTimeout: 5_000, requestTimeout: 20_000 } as const;
const IAM_HTTP = { connectionTimeout: 5_000, requestTimeout: 60_000 } as const;

/** How long a container trusts its DescribeCluster answer (endpoint, CA, ARN, authentication mode). */
export const DESCRIBE_TTL_MS = 5 * 60_000;

/** The adapters over SDK clients built for these settings. */
export function createLiveDeps(s: LiveSettings): LiveDeps {
  // IAM throttles GetAccountAuthorizationDetails hard; adaptive retry backs off and rate-limits.
  const profile = s.profile;
  const wrap = s.instrument ?? (<C>(c: C) => c);
  const iamClient = wrap(new IAMClient({ region: s.region, profile, maxAttempts: 8, retryMode: 'adaptive', requestHandler: IAM_HTTP }));
  const ownSts = wrap(new STSClient({ region: s.region, profile, maxAttempts: 5, requestHandler: AWS_HTTP }));
  // The cluster's side: the syncer itself, or the session of the role it assumes for this cluster.
  const credentials = s.roleArn ? assumedRoleCredentials(ownSts, s.roleArn, s.cluster, s.clock) : undefined;
  // Access-entry calls are many small writes that EKS throttles: the SDK's adaptive retry
  // (token bucket, backoff) covers throttling and 5xx for every EKS call; the adapter adds only
  // the bounded propagation retries after a create (lib/adapters/access-entries.ts).
  const eks = wrap(
    new EKSClient({ region: s.region, profile, maxAttempts: 8, retryMode: 'adaptive', requestHandler: AWS_HTTP, ...(credentials ? { credentials } : {}) }),
  );
  const sts = credentials ? wrap(new STSClient({ region: s.region, maxAttempts: 5, credentials, requestHandler: AWS_HTTP })) : ownSts;
  const s3 = wrap(new S3Client({ region: s.region, profile, maxAttempts: 5, followRegionRedirects: true, requestHandler: AWS_HTTP }));
  const kms = wrap(new KMSClient({ region: s.macKey.region, profile, maxAttempts: 5, requestHandler: AWS_HTTP }));
  const tokens = new StsTokenSource(sts, s.cluster, s.region, s.clock);
  let self: Promise<string> | undefined;
  // A failed lookup must not stick to a warm container: forget it so the next run asks again.
  const selfArn = (): Promise<string> =>
    (self ??= callerArn(sts).catch((err: unknown) => {
      self = undefined;
      throw err;
    }));
  const iamDirectory = new IamAuthorizationDetailsDirectory(iamClient, { log: s.log });
  // DescribeCluster at most every 5 minutes per container: a warm container must still see a
  // switch of the authentication mode (or a recreated cluster) within minutes, not hours.
  let described: { at: number; value: ReturnType<typeof describeClusterEndpoint> } | undefined;
  const describe = (): ReturnType<typeof describeClusterEndpoint> => {
    const now = s.clock.now().getTime();
    if (!described || now - described.at > DESCRIBE_TTL_MS) {
      const value: ReturnType<typeof describeClusterEndpoint> = describeClusterEndpoint(eks, s.cluster).catch((err: unknown) => {
        if (described?.value === value) described = undefined;
        throw err;
      });
      described = { at: now, value };
    }
    return described.value;
  };
  const eksConnection = async (): Promise<KubeConnection> => {
    const { endpoint, caData } = await describe();
    return httpsConnection({ server: endpoint, caData, token: await tokens.token() });
  };
  const store = new KubeAwsAuthStore(s.connect ?? eksConnection, {
    timeoutMs: s.timeoutMs,
    identity: s.identity ?? 'the syncer',
    now: () => s.clock.now().getTime(),
  });
  return {
    iam: iamDirectory,
    store,
    backups: new S3BackupStore(s3, kms, { bucket: s.bucket, prefix: s.prefix, macKeyId: s.macKey.id }),
    // Through a kubeconfig the syncer never asks EKS, so the ARN and the mode are unknown (ownership binds by name).
    cluster: {
      arn: async () => (s.connect ? undefined : (await describe()).arn),
      authenticationMode: async () => (s.connect ? undefined : (await describe()).authenticationMode),
    },
    entries: new EksAccessEntryStore(eks, s.cluster, { log: s.log }),
    // The topic lives in the stack's region, which need not be the cluster's.
    notifier: s.changeTopicArn
      ? new SnsNotifier(wrap(new SNSClient({ region: topicRegion(s.changeTopicArn), profile, maxAttempts: 3, requestHandler: AWS_HTTP })), s.changeTopicArn)
      : undefined,
    clock: s.clock,
    log: s.log,
    selfArn,
  };
}
