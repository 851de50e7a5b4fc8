/**
 * Reaching the cluster without a kubeconfig, as EKS clients do:
 * - DescribeCluster gives the endpoint and the CA;
 * - the bearer token is `k8s-aws-v1.` + base64url (no padding) of a presigned STS
 *   GetCallerIdentity GET for the regional endpoint, with the header `x-k8s-aws-id: <cluster>`
 *   signed. aws-iam-authenticator calls that URL to learn who we are, and rejects a token whose
 *   X-Amz-Expires is above 15 minutes; we presign for 60 s (what `aws eks get-token` does), so a
 *   leaked token is useless almost at once. The server accepts it for 15 minutes from X-Amz-Date.
 */
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, ChecksumConstructor, HashConstructor } from '@smithy/types';
import type { Clock } from '../app/ports.js';
import type { AuthenticationMode } from '../core/access-entries.js';
import { ClusterAccessError } from '../errors.js';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const TOKEN_EXPIRES_SECONDS = 60;
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

export interface ClusterEndpoint {
  /** The cluster's ARN (binds the ownership record to it). */
  arn?: string;
  /** accessConfig.authenticationMode; clusters from before access entries have none (they are CONFIG_MAP). */
  authenticationMode: AuthenticationMode;
  endpoint: string;
  /** Base64 PEM, as DescribeCluster returns it. */
  caData: string;
}

export async function describeClusterEndpoint(eks: Pick<EKSClient, 'send'>, cluster: string): Promise<ClusterEndpoint> {
  let res;
  try {
    res = await eks.send(new DescribeClusterCommand({ name: cluster }));
  } catch (err) {
    throw new ClusterAccessError(`EKS DescribeCluster ${cluster} failed: ${(err as Error).name}: ${(err as Error).message}`, {
      cause: err,
      context: { cluster },
    });
  }
  const endpoint = res.cluster?.endpoint;
  const caData = res.cluster?.certificateAuthority?.data;
  if (!endpoint || !caData) {
    throw new ClusterAccessError(`EKS cluster ${cluster} has no endpoint or CA yet (status ${res.cluster?.status ?? 'unknown'})`, { context: { cluster } });
  }
  const mode = res.cluster?.accessConfig?.authenticationMode;
  const authenticationMode: AuthenticationMode = mode === 'API' || mode === 'API_AND_CONFIG_MAP' ? mode : 'CONFIG_MAP';
  return { endpoint, caData, authenticationMode, ...(res.cluster?.arn ? { arn: res.cluster.arn } : {}) };
}

/** The STS host the authenticator accepts for a region (`sts.<region>.amazonaws.com[.cn]`). */
export function stsHostname(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

export interface TokenInput {
  cluster: string;
  region: string;
  credentials: AwsCredentialIdentity;
  sha256: ChecksumConstructor | HashConstructor;
  now: Date;
}

/** Build the EKS bearer token. Pure apart from the hashing; a test pins its exact shape. */
export async function createEksToken(input: TokenInput): Promise<string> {
  const hostname = stsHostname(input.region);
  const signer = new SignatureV4({ credentials: input.credentials, region: input.region, service: 'sts', sha256: input.sha256 });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, [CLUSTER_ID_HEADER]: input.cluster },
  });
  const signed = await signer.presign(request, { expiresIn: TOKEN_EXPIRES_SECONDS, signingDate: input.now });
  const query = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v ?? ''] as const]))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/** Tokens for the credentials an STS client resolves (the Lambda role, or the operator's). */
export class StsTokenSource {
  constructor(
    private readonly sts: STSClient,
    private readonly cluster: string,
    private readonly region: string,
    private readonly clock: Clock,
  ) {}

  async token(): Promise<string> {
    const credentials = await this.sts.config.credentials();
    return createEksToken({ cluster: this.cluster, region: this.region, credentials, sha256: this.sts.config.sha256, now: this.clock.now() });
  }
}

/** The ARN the syncer runs as (an assumed-role session in Lambda). */
export async function callerArn(sts: Pick<STSClient, 'send'>): Promise<string> {
  try {
    const res = await sts.send(new GetCallerIdentityCommand({}));
    if (!res.Arn) throw new Error('no Arn in the reply');
    return res.Arn;
  } catch (err) {
    throw new ClusterAccessError(`STS GetCallerIdentity failed: ${(err as Error).message}`, { cause: err });
  }
}
