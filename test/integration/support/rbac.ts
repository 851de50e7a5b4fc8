/**
 * The syncer's Kubernetes rights on the stack. stack.sh applies deploy/rbac.yaml (the default:
 * get and update of kube-system/aws-auth, no create). Tests that need the syncer to create
 * aws-auth apply the opt-in deploy/rbac-create-aws-auth.yaml first, as an operator would; tests
 * of the default remove it. Both wait until the apiserver enforces the change (RBAC and
 * admission policies reach it through informers, a moment after the write).
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { eventually } from './live.js';
import { kube, stack, unique } from './stack.js';

export const CREATE_BUNDLE = 'deploy/rbac-create-aws-auth.yaml';

const COLLECTIONS: Record<string, (ns?: string) => string> = {
  ValidatingAdmissionPolicy: () => '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: () => '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
  Role: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
  RoleBinding: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
};

function documents(file: string): { doc: any; collection: string }[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    const doc = d.toJS();
    const collection = COLLECTIONS[doc.kind]?.(doc.metadata.namespace);
    if (!collection) throw new Error(`${file}: no API path known for kind ${doc.kind}`);
    return { doc, collection };
  });
}

/** `kubectl apply` of a manifest file, as admin: create, or replace what exists. */
export async function applyManifest(file: string): Promise<void> {
  const admin = stack().adminToken;
  for (const { doc, collection } of documents(file)) {
    const created = await kube('POST', collection, admin, doc);
    if (created.status === 201) continue;
    if (created.status !== 409) throw new Error(`apply ${doc.kind}/${doc.metadata.name}: ${created.status} ${JSON.stringify(created.json)}`);
    const path = `${collection}/${doc.metadata.name}`;
    const current = await kube('GET', path, admin);
    const replaced = await kube('PUT', path, admin, { ...doc, metadata: { ...doc.metadata, resourceVersion: current.json.metadata.resourceVersion } });
    if (replaced.status !== 200) throw new Error(`apply ${doc.kind}/${doc.metadata.name}: ${replaced.status} ${JSON.stringify(replaced.json)}`);
  }
}

/** `kubectl delete -f`, as admin; what is already gone is fine. */
export async function deleteManifest(file: string): Promise<void> {
  for (const { doc, collection } of documents(file).reverse()) {
    const r = await kube('DELETE', `${collection}/${doc.metadata.name}`, stack().adminToken);
    if (r.status !== 200 && r.status !== 404) throw new Error(`delete ${doc.kind}/${doc.metadata.name}: ${r.status}`);
  }
}

const CM = '/api/v1/namespaces/kube-system/configmaps';

/** May the stack's syncer identity create ConfigMaps in kube-system, as RBAC sees it? */
async function rbacAllowsCreate(): Promise<boolean> {
  const r = await kube('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', stack().syncerToken, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { namespace: 'kube-system', verb: 'create', resource: 'configmaps' } },
  });
  return r.json?.status?.allowed === true;
}

/** Apply the opt-in create bundle and wait until RBAC grants create and the policy restrains it. */
export async function allowSyncerCreate(): Promise<void> {
  await applyManifest(CREATE_BUNDLE);
  if (!(await eventually(rbacAllowsCreate, (v) => v))) throw new Error(`${CREATE_BUNDLE}: RBAC create not in effect`);
  // Until the admission policy is loaded, a create of another name still succeeds: probe, undo.
  const held = await eventually(
    async () => {
      const name = unique('aas-vap-probe');
      const r = await kube('POST', CM, stack().syncerToken, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
      if (r.status === 201) await kube('DELETE', `${CM}/${name}`, stack().adminToken);
      return r.status;
    },
    (status) => status === 403,
    30000,
  );
  if (held !== 403) throw new Error(`${CREATE_BUNDLE}: the ValidatingAdmissionPolicy is not in effect (probe create answered ${held})`);
}

/** Back to the default RBAC (no create), and wait until the apiserver agrees. */
export async function disallowSyncerCreate(): Promise<void> {
  await deleteManifest(CREATE_BUNDLE);
  if (await eventually(rbacAllowsCreate, (v) => !v)) throw new Error('the syncer may still create ConfigMaps after removing the create bundle');
}
