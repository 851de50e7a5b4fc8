/**
 * Access to the real local stack started by global-setup (test/stack/stack.sh): endpoints,
 * tokens, and SDK clients pointed at moto. Tests get fresh state by using unique names.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';

export interface StackInfo {
  kubeEndpoint: string;
  caFile: string;
  caData: string;
  adminToken: string;
  syncerToken: string;
  motoEndpoint: string;
  eksEndpoint: string;
  region: string;
  stateDir: string;
  pids: Record<string, number>;
  logs: Record<string, string>;
  versions: Record<string, string>;
  bin: Record<string, string>;
  [extra: string]: unknown;
}

/** The repository root (this file also runs compiled, from dist/, for `npm run bench`). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    if (dirname(dir) === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = dirname(dir);
  }
  return dir;
}

/**
 * `bash test/stack/stack.sh up DIR` and its stack.json. `eksAuth: false` leaves out the EKS auth
 * chain (AAS_EKS_AUTH=0); with it, hold /tmp/aas-chain.lock (its health port is fixed). A stack
 * that fails to start is stopped again. Jest's global setup does the same for the tests.
 */
export function upStack(dir: string, opts: { eksAuth?: boolean } = {}): StackInfo {
  const env = { ...process.env, AAS_EKS_AUTH: opts.eksAuth === false ? '0' : '1' };
  try {
    execFileSync('bash', ['test/stack/stack.sh', 'up', dir], { cwd: repoRoot(), env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 60 * 60 * 1000 });
  } catch (err) {
    downStack(dir);
    throw new Error(`AAS_EKS_AUTH=${env.AAS_EKS_AUTH} bash test/stack/stack.sh up ${dir} failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')) as StackInfo;
}

/** `bash test/stack/stack.sh down DIR` (safe to repeat). */
export function downStack(dir: string): void {
  execFileSync('bash', ['test/stack/stack.sh', 'down', dir], { cwd: repoRoot(), stdio: 'ignore', timeout: 120000 });
}

export function stack(): StackInfo {
  const dir = process.env.AAS_STACK_DIR;
  if (!dir) throw new Error('AAS_STACK_DIR is not set: integration tests run under jest globalSetup (npm test)');
  return JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')) as StackInfo;
}

/** Point the AWS SDK (in this process) at moto, with the given credentials. */
export function useMoto(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = {
    accessKeyId: 'AKIAADMIN0000000TEST',
    secretAccessKey: 'admin-secret',
  },
): void {
  const s = stack();
  process.env.AWS_ENDPOINT_URL = s.motoEndpoint;
  process.env.AWS_ENDPOINT_URL_EKS = s.eksEndpoint;
  process.env.AWS_REGION = s.region;
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  if (credentials.sessionToken) process.env.AWS_SESSION_TOKEN = credentials.sessionToken;
  else delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
}

const adminCreds = { accessKeyId: 'AKIAADMIN0000000TEST', secretAccessKey: 'admin-secret' };
export const clients = () => {
  const s = stack();
  return {
    iam: new IAMClient({ region: s.region, endpoint: s.motoEndpoint, credentials: adminCreds }),
    s3: new S3Client({ region: s.region, endpoint: s.motoEndpoint, credentials: adminCreds, forcePathStyle: true }),
    // EKS is ministack's (access entries), reached directly: no endpoint rewrite needed for these calls.
    eks: new EKSClient({ region: s.region, endpoint: s.ministackEndpoint as string, credentials: adminCreds }),
    sts: new STSClient({ region: s.region, endpoint: s.motoEndpoint, credentials: adminCreds }),
  };
};

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** A raw request to the apiserver with a bearer token (admin for setup and inspection); `endpoint`: another apiserver of the stack (AAS_CLUSTERS=2). */
export function kube(method: string, path: string, token: string, body?: unknown, endpoint?: string): Promise<{ status: number; json: any }> {
  const s = stack();
  const url = new URL(path, endpoint ?? s.kubeEndpoint);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        ca: readFileSync(s.caFile),
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

export const AWS_AUTH_PATH = '/api/v1/namespaces/kube-system/configmaps/aws-auth';

/** Remove aws-auth (admin) so a test starts from a known state. */
export async function resetAwsAuth(): Promise<void> {
  const r = await kube('DELETE', AWS_AUTH_PATH, stack().adminToken);
  if (r.status !== 200 && r.status !== 404) throw new Error(`reset aws-auth: ${r.status} ${JSON.stringify(r.json)}`);
}

/** Replace aws-auth (admin). The syncer's own entry is added to mapUsers unless `withSyncer` is
 * false, as an operator bootstraps it (without it the syncer cannot get in at all). */
export async function putAwsAuth(data: Record<string, string>, annotations?: Record<string, string>, withSyncer = true): Promise<any> {
  if (withSyncer) {
    const { syncerEntry } = await import('./live.js');
    data = { ...data, mapUsers: (data.mapUsers ?? '') + (await syncerEntry()) };
  }
  await resetAwsAuth();
  const r = await kube('POST', '/api/v1/namespaces/kube-system/configmaps', stack().adminToken, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', ...(annotations ? { annotations } : {}) },
    data,
  });
  if (r.status !== 201) throw new Error(`create aws-auth: ${r.status} ${JSON.stringify(r.json)}`);
  if (withSyncer && stack().eksAuth) {
    // The authenticator follows aws-auth through a watch (about a second behind): start the test
    // only once the syncer's own token is accepted again.
    const { eventually, syncerIdentity, whoami } = await import('./live.js');
    const id = await syncerIdentity();
    const me = await eventually(
      () => whoami(id),
      (v) => v.status === 201,
    );
    if (me.status !== 201) throw new Error(`the syncer's token is not accepted after aws-auth was reset (${me.status})`);
  }
  return r.json;
}

export async function getAwsAuth(): Promise<any | null> {
  const r = await kube('GET', AWS_AUTH_PATH, stack().adminToken);
  if (r.status === 404) return null;
  if (r.status !== 200) throw new Error(`get aws-auth: ${r.status}`);
  return r.json;
}

/** A kubeconfig file as an operator has one (server, CA file, a user with a bearer token), in `dir`. */
export function writeKubeconfig(dir: string, token: string, name = unique('kubeconfig')): string {
  const s = stack();
  const path = join(dir, name);
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    `  cluster: { server: "${s.kubeEndpoint}", certificate-authority: "${s.caFile}" }`,
    'users:',
    '- name: syncer',
    `  user: { token: "${token}" }`,
    'contexts:',
    '- name: local',
    '  context: { cluster: local, user: syncer }',
    'current-context: local',
  ];
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
