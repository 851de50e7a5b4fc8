/**
 * The syncer's dependencies as the Lambda wires them (lib/adapters/wire.ts), pointed at the
 * local stack through the SDK's standard endpoint variables.
 */
import { createLiveDeps, type LiveDeps } from '../../../lib/adapters/wire.js';
import { silentLog, systemClock } from '../../../lib/app/ports.js';
import { KubeAwsAuthStore } from '../../../lib/adapters/kube.js';
import { stack, useMoto } from './stack.js';

export async function liveDeps(cluster: string, bucket: string): Promise<LiveDeps> {
  useMoto();
  const s = stack();
  const deps = createLiveDeps({ cluster, region: s.region, bucket, prefix: 'aws-auth-backups', timeoutMs: 10000, clock: systemClock, log: silentLog });
  // Until the authenticator is part of the stack, the syncer reaches the apiserver with a static
  // token bound to its least-privilege RBAC (never the admin token).
  deps.store = new KubeAwsAuthStore(async () => ({ server: s.kubeEndpoint, caData: s.caData, token: s.syncerToken }), { timeoutMs: 10000 });
  return deps;
}
