// Starts the real local stack (etcd, kube-apiserver, moto, …) once for the integration tests.
// test/stack/stack.sh does the work; its state dir is shared with the tests through an env var.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default async function globalSetup() {
  const dir = process.env.AAS_STACK_DIR || mkdtempSync(join(tmpdir(), 'aas-stack-'));
  process.env.AAS_STACK_DIR = dir;
  if (process.env.AAS_STACK_EXTERNAL === '1') return; // a stack started by hand (stack.sh up DIR)
  // Two clusters (test/integration/fleet.test.ts syncs both from one run); AAS_CLUSTERS=1 to save the second apiserver.
  const env = { ...process.env, AAS_CLUSTERS: process.env.AAS_CLUSTERS ?? '2' };
  execFileSync('bash', ['test/stack/stack.sh', 'up', dir], { stdio: 'inherit', timeout: 60 * 60 * 1000, env });
}
