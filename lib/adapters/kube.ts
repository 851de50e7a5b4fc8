/**
 * kube-system/aws-auth over the Kubernetes REST API.
 *
 * `@kubernetes/client-node`'s KubeConfig builds the TLS and bearer-token options; the three
 * requests themselves (GET, POST, PUT of one object) go through node:https so that the object
 * is kept exactly as the API server serves it (the generated typed client turns timestamps into
 * Date objects and drops nothing but reformats; a backup must be the object itself).
 *
 * A replace always carries the resourceVersion that was read, so a concurrent change gives
 * 409 instead of a lost update. A 401 is retried once with a fresh token (the token lives
 * 15 minutes; a long run or a clock skew can outlive it).
 */
import { request as httpsRequest } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { ConfigMapObject } from '../core/types.js';
import { AWS_AUTH_NAME, AWS_AUTH_NAMESPACE } from '../core/render.js';
import { ClusterAccessError, WriteConflictError } from '../errors.js';
import type { AwsAuthStore } from '../app/ports.js';

export interface ClusterAccess {
  server: string;
  /** Base64 PEM of the cluster CA. */
  caData: string;
  token: string;
}

export interface KubeStoreOptions {
  timeoutMs: number;
  /** Milliseconds since the epoch (injected clock); decides when a token is due for renewal. */
  now?: () => number;
  /** Who we are, for error messages that tell the operator how to get access back. */
  identity?: string;
}

interface HttpReply {
  status: number;
  body: string;
}

/** Renew the token well before the authenticator's 15-minute window ends (warm containers). */
const TOKEN_RENEW_MS = 10 * 60 * 1000;

export class KubeAwsAuthStore implements AwsAuthStore {
  private access?: Promise<ClusterAccess>;
  private accessAt = 0;

  /** @param connect resolves endpoint, CA and a fresh token; called again after a 401. */
  constructor(
    private readonly connect: () => Promise<ClusterAccess>,
    private readonly options: KubeStoreOptions,
  ) {}

  private path(name?: string): string {
    return `/api/v1/namespaces/${AWS_AUTH_NAMESPACE}/configmaps${name ? `/${name}` : ''}`;
  }

  private async send(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, retried = false): Promise<HttpReply> {
    const now = this.options.now?.() ?? Date.now();
    if (this.access && now - this.accessAt > TOKEN_RENEW_MS) this.access = undefined;
    if (!this.access) {
      this.access = this.connect();
      this.accessAt = now;
    }
    let access: ClusterAccess;
    try {
      access = await this.access;
    } catch (err) {
      this.access = undefined;
      throw err;
    }
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'eks', server: access.server, caData: access.caData, skipTLSVerify: false }],
      users: [{ name: 'syncer', token: access.token }],
      contexts: [{ name: 'syncer', cluster: 'eks', user: 'syncer' }],
      currentContext: 'syncer',
    });
    const url = new URL(path, access.server);
    const opts: import('node:https').RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port || 443,
      path: url.pathname + url.search,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    };
    await kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let reply: HttpReply;
    try {
      reply = await new Promise<HttpReply>((resolve, reject) => {
        const req = httpsRequest({ ...opts, signal: AbortSignal.timeout(this.options.timeoutMs) }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        if (payload !== undefined) req.write(payload);
        req.end();
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const timedOut = e.name === 'AbortError' || e.name === 'TimeoutError';
      const why = timedOut ? `no answer within ${this.options.timeoutMs} ms` : `${e.code ?? e.name}: ${e.message}`;
      // A timed-out write may still be applied by the server: say so, so the backup is labelled right.
      throw new ClusterAccessError(`Kubernetes API ${method} ${path} failed: ${why}`, { cause: err, context: { server: access.server, timedOut } });
    }
    if (reply.status === 401 && !retried) {
      this.access = undefined;
      return this.send(method, path, body, true);
    }
    return reply;
  }

  private fail(method: string, reply: HttpReply): never {
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

  async read(): Promise<ConfigMapObject | null> {
    const reply = await this.send('GET', this.path(AWS_AUTH_NAME));
    if (reply.status === 404) return null;
    if (reply.status !== 200) this.fail('GET', reply);
    return JSON.parse(reply.body) as ConfigMapObject;
  }

  async create(next: ConfigMapObject): Promise<ConfigMapObject> {
    const body = structuredClone(next);
    delete body.metadata.resourceVersion;
    const reply = await this.send('POST', this.path(), body);
    if (reply.status === 409) throw new WriteConflictError('aws-auth was created by someone else meanwhile');
    if (reply.status !== 201 && reply.status !== 200) this.fail('POST', reply);
    return JSON.parse(reply.body) as ConfigMapObject;
  }

  async replace(next: ConfigMapObject): Promise<ConfigMapObject> {
    if (!next.metadata.resourceVersion) throw new Error('replace needs the resourceVersion that was read');
    const reply = await this.send('PUT', this.path(AWS_AUTH_NAME), next);
    if (reply.status === 409) {
      throw new WriteConflictError(`aws-auth changed since resourceVersion ${next.metadata.resourceVersion} was read`, {
        context: { resourceVersion: next.metadata.resourceVersion },
      });
    }
    if (reply.status === 404) throw new WriteConflictError('aws-auth was deleted since it was read');
    if (reply.status !== 200) this.fail('PUT', reply);
    return JSON.parse(reply.body) as ConfigMapObject;
  }
}
