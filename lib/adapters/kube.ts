/**
 * kube-system/aws-auth over the Kubernetes REST API.
 *
 * KubeAwsAuthStore holds the semantics (what a status means, when to renew the token, when to
 * give up); a KubeConnection carries one request to the API server and hands back the status
 * and the body exactly as served. Two connections exist:
 * - {@link httpsConnection} (this file, node:https): the Lambda path. Endpoint + CA + bearer
 *   token is all a function needs, and it keeps @kubernetes/client-node out of the bundles;
 * - `clientNodeConnection` (kube-client.ts, @kubernetes/client-node's CoreV1Api over a
 *   KubeConfig): the CLI, for kubeconfig files, contexts and exec credential plugins.
 * Why the Lambda does not use the client: its generated CoreV1Api is one 0.9 MB class that no
 * bundler can trim per method, and loading it costs more than the four AWS SDK clients
 * together (figures in README.md and BENCHMARKS.md).
 *
 * Invariants kept for both: a backup is the object as the API server served it (the body text
 * is parsed here, never through a typed model that would turn timestamps into Dates or drop
 * fields); a replace always carries the resourceVersion that was read, so a concurrent change
 * gives 409 instead of a lost update; every request has a deadline; a 401 is retried once with
 * a fresh token (the token lives 15 minutes; a long run or a clock skew can outlive it).
 */
import { request as httpsRequest } from 'node:https';
import type { ConfigMapObject } from '../core/types.js';
import { AWS_AUTH_NAME, AWS_AUTH_NAMESPACE } from '../core/render.js';
import { ClusterAccessError, WriteConflictError } from '../errors.js';
import type { AwsAuthStore } from '../app/ports.js';

/** The three requests the store makes, all on kube-system/aws-auth. */
export type KubeOp = 'read' | 'create' | 'replace';

/** One HTTP exchange: the status and the body text exactly as the API server sent it. */
export interface KubeReply {
  status: number;
  body: string;
}

/** A way to reach the API server (already authenticated). */
export interface KubeConnection {
  /** The API server URL, for error messages. */
  readonly server: string;
  /**
   * Send one request. `body` is the exact JSON text to send (create, replace). Resolves with
   * any HTTP status; rejects only when no reply arrived (network, TLS, `signal` aborted).
   */
  send(op: KubeOp, body: string | undefined, signal: AbortSignal): Promise<KubeReply>;
}

/** Method and path of each operation (the REST API's own, as CoreV1Api builds them). */
export function opRequest(op: KubeOp): { method: 'GET' | 'POST' | 'PUT'; path: string } {
  const collection = `/api/v1/namespaces/${AWS_AUTH_NAMESPACE}/configmaps`;
  if (op === 'create') return { method: 'POST', path: collection };
  return { method: op === 'read' ? 'GET' : 'PUT', path: `${collection}/${AWS_AUTH_NAME}` };
}

export interface ClusterAccess {
  server: string;
  /** Base64 PEM of the cluster CA. */
  caData: string;
  token: string;
}

/** node:https with the cluster CA and a bearer token: all an EKS endpoint needs. */
export function httpsConnection(access: ClusterAccess): KubeConnection {
  const ca = Buffer.from(access.caData, 'base64');
  return {
    server: access.server,
    send(op, body, signal) {
      const { method, path } = opRequest(op);
      const url = new URL(path, access.server);
      return new Promise<KubeReply>((resolve, reject) => {
        const req = httpsRequest(
          {
            method,
            hostname: url.hostname,
            port: url.port || 443,
            path: url.pathname,
            ca,
            signal,
            headers: { Authorization: `Bearer ${access.token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
      });
    },
  };
}

export interface KubeStoreOptions {
  timeoutMs: number;
  /** Milliseconds since the epoch (injected clock); decides when a token is due for renewal. */
  now?: () => number;
  /** Who we are, for error messages that tell the operator how to get access back. */
  identity?: string;
}

/** Renew the token well before the authenticator's 15-minute window ends (warm containers). */
export const TOKEN_RENEW_MS = 10 * 60 * 1000;

const METHOD: Record<KubeOp, string> = { read: 'GET', create: 'POST', replace: 'PUT' };

export class KubeAwsAuthStore implements AwsAuthStore {
  private connection?: Promise<KubeConnection>;
  private connectedAt = 0;

  /** @param connect resolves an authenticated connection (a fresh token); called again after a 401 and after 10 minutes. */
  constructor(
    private readonly connect: () => Promise<KubeConnection>,
    private readonly options: KubeStoreOptions,
  ) {}

  private async send(op: KubeOp, body?: unknown, retried = false): Promise<KubeReply> {
    const now = this.options.now?.() ?? Date.now();
    if (this.connection && now - this.connectedAt > TOKEN_RENEW_MS) this.connection = undefined;
    if (!this.connection) {
      this.connection = this.connect();
      this.connectedAt = now;
    }
    let conn: KubeConnection;
    try {
      conn = await this.connection;
    } catch (err) {
      this.connection = undefined;
      throw err;
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let reply: KubeReply;
    try {
      reply = await conn.send(op, payload, AbortSignal.timeout(this.options.timeoutMs));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const timedOut = e.name === 'AbortError' || e.name === 'TimeoutError';
      const why = timedOut ? `no answer within ${this.options.timeoutMs} ms` : `${e.code ?? e.name}: ${e.message}`;
      // A timed-out write may still be applied by the server: say so, so the backup is labelled right.
      throw new ClusterAccessError(`Kubernetes API ${METHOD[op]} ${opRequest(op).path} failed: ${why}`, {
        cause: err,
        context: { server: conn.server, timedOut },
      });
    }
    if (reply.status === 401 && !retried) {
      this.connection = undefined;
      return this.send(op, body, true);
    }
    return reply;
  }

  private fail(op: KubeOp, reply: KubeReply): never {
    const method = METHOD[op];
    let message = reply.body.slice(0, 300);
    try {
      message = (JSON.parse(reply.body) as { message?: string }).message ?? message;
    } catch {
      /* not a Status object */
    }
    const who = this.options.identity ?? 'the syncer';
    if (reply.status === 401) {
      throw new ClusterAccessError(
        `the cluster rejected ${who}'s token (401 Unauthorized) on ${method} aws-auth. Its aws-auth mapping may have been removed: ` +
          'an administrator can restore the last good version (`aws-auth-syncer restore --backup latest`), ' +
          'and an EKS access entry for the syncer role keeps it in even when aws-auth is broken.',
        { context: { status: 401 } },
      );
    }
    if (reply.status === 403 && method === 'POST') {
      // deploy/rbac.yaml grants no create: aws-auth exists on EKS clusters with managed node
      // groups or Fargate profiles; elsewhere it is created once, by a person or by the opt-in
      // deploy/rbac-create-aws-auth.yaml.
      throw new ClusterAccessError(
        `kube-system/aws-auth does not exist and ${who} may not create it (403 Forbidden: ${message}). ` +
          'deploy/rbac.yaml grants get and update only. Create aws-auth once (for example with the manifest a dry run prints), ' +
          'or let the syncer create it: kubectl apply -f deploy/rbac-create-aws-auth.yaml (create held to kube-system/aws-auth by a ValidatingAdmissionPolicy).',
        { context: { status: 403 } },
      );
    }
    if (reply.status === 403) {
      throw new ClusterAccessError(
        `${who} is not allowed to ${method} kube-system/aws-auth (403 Forbidden: ${message}); apply deploy/rbac.yaml and map the syncer to the aws-auth-syncer group`,
        { context: { status: 403 } },
      );
    }
    throw new ClusterAccessError(`Kubernetes API ${method} aws-auth answered ${reply.status}: ${message}`, { context: { status: reply.status } });
  }

  /** The body as served, parsed once: this object is what gets backed up. */
  private object(op: KubeOp, reply: KubeReply): ConfigMapObject {
    try {
      return JSON.parse(reply.body) as ConfigMapObject;
    } catch {
      throw new ClusterAccessError(`Kubernetes API ${METHOD[op]} aws-auth answered ${reply.status} with a body that is not JSON: ${reply.body.slice(0, 120)}`);
    }
  }

  async read(): Promise<ConfigMapObject | null> {
    const reply = await this.send('read');
    if (reply.status === 404) return null;
    if (reply.status !== 200) this.fail('read', reply);
    return this.object('read', reply);
  }

  async create(next: ConfigMapObject): Promise<ConfigMapObject> {
    const body = structuredClone(next);
    delete body.metadata.resourceVersion;
    const reply = await this.send('create', body);
    if (reply.status === 409) throw new WriteConflictError('aws-auth was created by someone else meanwhile');
    if (reply.status !== 201 && reply.status !== 200) this.fail('create', reply);
    return this.object('create', reply);
  }

  async replace(next: ConfigMapObject): Promise<ConfigMapObject> {
    if (!next.metadata.resourceVersion) throw new Error('replace needs the resourceVersion that was read');
    const reply = await this.send('replace', next);
    if (reply.status === 409) {
      throw new WriteConflictError(`aws-auth changed since resourceVersion ${next.metadata.resourceVersion} was read`, {
        context: { resourceVersion: next.metadata.resourceVersion },
      });
    }
    if (reply.status === 404) throw new WriteConflictError('aws-auth was deleted since it was read');
    if (reply.status !== 200) this.fail('replace', reply);
    return this.object('replace', reply);
  }
}
