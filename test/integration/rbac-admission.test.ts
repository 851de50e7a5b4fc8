/**
 * The syncer's own rights on the real kube-apiserver (v1.37, RBAC + admission as shipped):
 * - default deploy/rbac.yaml: get and update of kube-system/aws-auth, no create — a missing
 *   aws-auth is reported with what to do;
 * - opt-in deploy/rbac-create-aws-auth.yaml: create, held to kube-system/aws-auth by a
 *   ValidatingAdmissionPolicy.
 * The syncer identity is the stack's static token (user and group aws-auth-syncer): without
 * aws-auth no IAM identity maps to anything through the authenticator, so on EKS the syncer would
 * come in through its access entry here.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { httpsConnection, KubeAwsAuthStore } from '../../lib/adapters/kube.js';
import { ClusterAccessError } from '../../lib/errors.js';
import { allowSyncerCreate, disallowSyncerCreate } from './support/rbac.js';
import { getAwsAuth, kube, resetAwsAuth, stack, unique } from './support/stack.js';

const CM = '/api/v1/namespaces/kube-system/configmaps';
const configMap = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...extra },
  data: { k: 'v' },
});
const syncerStore = () =>
  new KubeAwsAuthStore(async () => httpsConnection({ server: stack().kubeEndpoint, caData: stack().caData, token: stack().syncerToken }), { timeoutMs: 10000 });
const AWS_AUTH = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: '[]\n' } };

describe('default RBAC (deploy/rbac.yaml): no create', () => {
  beforeAll(async () => {
    await disallowSyncerCreate();
    await resetAwsAuth();
  });

  test('aws-auth missing: the syncer may not create it, and says what to do', async () => {
    const store = syncerStore();
    expect(await store.read()).toBeNull();
    const err = await store.create(AWS_AUTH).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterAccessError);
    expect((err as Error).message).toMatch(
      /^kube-system\/aws-auth does not exist and the syncer may not create it \(403 Forbidden: .*cannot create resource "configmaps"/,
    );
    expect((err as Error).message).toMatch(/kubectl apply -f deploy\/rbac-create-aws-auth\.yaml/);
    expect(await getAwsAuth()).toBeNull();
  });

  test('nor any other ConfigMap', async () => {
    expect((await kube('POST', CM, stack().syncerToken, configMap(unique('other')))).status).toBe(403);
  });
});

describe('opt-in deploy/rbac-create-aws-auth.yaml: create held to kube-system/aws-auth by a ValidatingAdmissionPolicy', () => {
  beforeAll(async () => {
    await allowSyncerCreate();
    await resetAwsAuth();
  }, 60000);
  afterAll(async () => {
    await resetAwsAuth();
    await disallowSyncerCreate();
  });

  test('the syncer creates kube-system/aws-auth', async () => {
    const created = await syncerStore().create(AWS_AUTH);
    expect(created.metadata.name).toBe('aws-auth');
    expect((await getAwsAuth()).data).toEqual(AWS_AUTH.data);
  });

  test('but no other ConfigMap in kube-system: refused by the policy (RBAC alone would allow it)', async () => {
    const name = unique('other');
    // RBAC says yes…
    const review = await kube('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', stack().syncerToken, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: 'kube-system', verb: 'create', resource: 'configmaps', name } },
    });
    expect(review.json.status.allowed).toBe(true);
    // …the admission policy says no.
    const r = await kube('POST', CM, stack().syncerToken, configMap(name));
    expect(r.status).toBe(403);
    expect(r.json.message).toMatch(
      /ValidatingAdmissionPolicy 'aws-auth-syncer-creates-only-aws-auth'.*denied request: the aws-auth-syncer group may create only the ConfigMap kube-system\/aws-auth/,
    );
    expect((await kube('GET', `${CM}/${name}`, stack().adminToken)).status).toBe(404);
  });

  test('nor a generated name, nor a ConfigMap in another namespace', async () => {
    const generated = await kube('POST', CM, stack().syncerToken, configMap('', { generateName: 'aws-auth-' }));
    expect(generated.status).toBe(403);
    const elsewhere = await kube('POST', '/api/v1/namespaces/default/configmaps', stack().syncerToken, configMap('aws-auth'));
    expect(elsewhere.status).toBe(403);
  });

  test('the policy binds only the syncer group: an admin still creates ConfigMaps in kube-system', async () => {
    const name = unique('admin-made');
    expect((await kube('POST', CM, stack().adminToken, configMap(name))).status).toBe(201);
    await kube('DELETE', `${CM}/${name}`, stack().adminToken);
  });
});
