/**
 * KubeAwsAuthStore's semantics over an in-memory KubeConnection (no network): what each status
 * means, the exact bodies sent, token renewal and the one retry after a 401, the deadline.
 * The same store over the two real connections runs against a real kube-apiserver in
 * test/integration/adapters.test.ts.
 */
import { describe, expect, test } from '@jest/globals';
import { KubeAwsAuthStore, TOKEN_RENEW_MS, type KubeConnection, type KubeOp, type KubeReply } from '../../../lib/adapters/kube.js';
import type { ConfigMapObject } from '../../../lib/core/types.js';
import { ClusterAccessError, WriteConflictError } from '../../../lib/errors.js';

interface Sent {
  connection: number;
  op: KubeOp;
  body?: string;
}

/** A store whose connections answer from `replies` in order and record what was sent. */
function harness(replies: (KubeReply | Error)[], opts: { now?: () => number; timeoutMs?: number } = {}) {
  const sent: Sent[] = [];
  let connects = 0;
  const store = new KubeAwsAuthStore(
    async (): Promise<KubeConnection> => {
      const connection = ++connects;
      return {
        server: 'https://example.invalid',
        send: async (op, body, signal) => {
          sent.push({ connection, op, body });
          const next = replies.shift();
          if (next === undefined) {
            // No scripted reply: behave like a server that never answers.
            return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
          }
          if (next instanceof Error) throw next;
          return next;
        },
      };
    },
    { timeoutMs: opts.timeoutMs ?? 1000, now: opts.now, identity: 'the test syncer' },
  );
  return { store, sent, connects: () => connects };
}

const served =
  '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"aws-auth","namespace":"kube-system","resourceVersion":"7","creationTimestamp":"2026-01-01T00:00:00Z"},"data":{"mapRoles":"[]\\n"}}';
const cm = (rv?: string): ConfigMapObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'aws-auth', namespace: 'kube-system', ...(rv ? { resourceVersion: rv } : {}) },
  data: { mapRoles: '[]\n' },
});

describe('KubeAwsAuthStore over any connection', () => {
  test('read: 200 → the served body parsed as it is (timestamps stay strings, key order kept); 404 → null', async () => {
    const { store } = harness([
      { status: 200, body: served },
      { status: 404, body: '{}' },
    ]);
    const read = await store.read();
    expect(JSON.stringify(read)).toBe(served);
    expect(await store.read()).toBeNull();
  });

  test('create sends the object without resourceVersion; replace sends it with the one read, byte for byte', async () => {
    const { store, sent } = harness([
      { status: 201, body: served },
      { status: 200, body: served },
    ]);
    await store.create(cm('3'));
    await store.replace(cm('7'));
    expect(sent.map((s) => s.op)).toEqual(['create', 'replace']);
    expect(sent[0]!.body).toBe(JSON.stringify(cm()));
    expect(sent[1]!.body).toBe(JSON.stringify(cm('7')));
  });

  test('replace without a resourceVersion is a programming error, never an unconditional write', async () => {
    const { store, sent } = harness([]);
    await expect(store.replace(cm())).rejects.toThrow(/needs the resourceVersion/);
    expect(sent).toEqual([]);
  });

  test.each<[KubeOp, number, typeof ClusterAccessError | typeof WriteConflictError, RegExp]>([
    ['replace', 409, WriteConflictError, /changed since resourceVersion 7 was read/],
    ['replace', 404, WriteConflictError, /deleted since it was read/],
    ['create', 409, WriteConflictError, /created by someone else/],
    ['read', 403, ClusterAccessError, /the test syncer is not allowed to GET kube-system\/aws-auth \(403 Forbidden: no\); apply deploy\/rbac\.yaml/],
    ['read', 500, ClusterAccessError, /GET aws-auth answered 500: no/],
  ])('%s answered %i → the error type and a message that say what happened', async (op, status, type, message) => {
    const { store } = harness([{ status, body: '{"kind":"Status","message":"no"}' }]);
    const call = op === 'read' ? store.read() : op === 'create' ? store.create(cm()) : store.replace(cm('7'));
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
  });

  test('401 once: a fresh connection (new token) and the request again; 401 twice: the access message pointing at restore', async () => {
    const once = harness([
      { status: 401, body: '' },
      { status: 200, body: served },
    ]);
    expect(await once.store.read()).not.toBeNull();
    expect(once.sent.map((s) => s.connection)).toEqual([1, 2]);

    const twice = harness([
      { status: 401, body: '' },
      { status: 401, body: '' },
    ]);
    await expect(twice.store.read()).rejects.toThrow(/rejected the test syncer's token \(401 Unauthorized\).*restore --backup latest/);
    expect(twice.connects()).toBe(2);
  });

  test('the connection (and its token) is reused for 10 minutes, then renewed before the next request', async () => {
    let now = 0;
    const { store, sent } = harness(
      [200, 200, 200].map(() => ({ status: 200, body: served })),
      { now: () => now },
    );
    await store.read();
    now = TOKEN_RENEW_MS;
    await store.read();
    now = TOKEN_RENEW_MS + 1;
    await store.read();
    expect(sent.map((s) => s.connection)).toEqual([1, 1, 2]);
  });

  test('no answer within timeoutMs: ClusterAccessError marked timedOut (a write may still land)', async () => {
    const { store } = harness([], { timeoutMs: 50 });
    const err = await store.replace(cm('7')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterAccessError);
    expect((err as ClusterAccessError).message).toMatch(/PUT \/api\/v1\/namespaces\/kube-system\/configmaps\/aws-auth failed: no answer within 50 ms/);
    expect((err as ClusterAccessError).context).toMatchObject({ timedOut: true, server: 'https://example.invalid' });
  });

  test('a network error is a ClusterAccessError naming it, not marked timedOut', async () => {
    const { store } = harness([Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })]);
    const err = await store.read().catch((e: unknown) => e);
    expect((err as ClusterAccessError).message).toMatch(/GET .* failed: ECONNREFUSED: connect ECONNREFUSED/);
    expect((err as ClusterAccessError).context.timedOut).toBe(false);
  });

  test('a 200 whose body is not JSON is a ClusterAccessError, never an empty ConfigMap', async () => {
    const { store } = harness([{ status: 200, body: '<html>proxy login</html>' }]);
    await expect(store.read()).rejects.toThrow(/answered 200 with a body that is not JSON: <html>proxy login/);
  });

  test('a failed connect is not cached: the next request connects again', async () => {
    let calls = 0;
    const store = new KubeAwsAuthStore(
      async () => {
        if (++calls === 1) throw new ClusterAccessError('EKS DescribeCluster c failed');
        return { server: 's', send: async () => ({ status: 200, body: served }) };
      },
      { timeoutMs: 1000 },
    );
    await expect(store.read()).rejects.toThrow(/DescribeCluster/);
    expect(await store.read()).not.toBeNull();
    expect(calls).toBe(2);
  });
});
