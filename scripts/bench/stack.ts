/**
 * The local stacks the sections use, started and stopped through test/integration/support (the
 * same `stack.sh up/down`, clients and kube helpers as the integration tests), and an SDK call
 * counter. The support code finds the running stack through AAS_STACK_DIR, in this process and
 * in the workers it starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IAMClient } from '@aws-sdk/client-iam';
import { downStack, upStack, type StackInfo } from '../../test/integration/support/stack.js';
import { log, secs } from './lib.js';

export type Stack = StackInfo & { dir: string; cluster: string; eksAuth: boolean };
const stacks = new Map<string, Stack>();

/**
 * The running stack of this kind, started on first use. One at a time: aws-iam-authenticator's
 * health port is fixed (so the chain needs /tmp/aas-chain.lock), and two stacks would share the
 * 2 cores, so another kind is stopped first.
 */
export function useStack(kind: string, opts: { eksAuth: boolean }): Stack {
  const have = stacks.get(kind);
  if (have) return have;
  for (const other of [...stacks.keys()]) releaseStack(other);
  const dir = mkdtempSync(join(tmpdir(), `aas-bench-${kind}-`));
  log(`starting the local stack for ${kind} in ${dir} (EKS auth chain: ${opts.eksAuth ? 'on' : 'off'})`);
  const t0 = performance.now();
  const s = { ...upStack(dir, opts), dir } as Stack;
  stacks.set(kind, s);
  process.env.AAS_STACK_DIR = dir;
  log(`stack up in ${secs(performance.now() - t0)} (kube ${s.kubeEndpoint}, moto ${s.motoEndpoint})`);
  return s;
}

export function releaseStack(kind: string): void {
  const s = stacks.get(kind);
  if (!s) return;
  stacks.delete(kind);
  log(`stopping the stack in ${s.dir}`);
  downStack(s.dir);
  rmSync(s.dir, { recursive: true, force: true });
  if (process.env.AAS_STACK_DIR === s.dir) delete process.env.AAS_STACK_DIR;
}

/** Whatever way the bench ends, the stacks it started end with it. */
process.on('exit', () => {
  for (const kind of [...stacks.keys()]) releaseStack(kind);
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    log(`${sig}: tearing down ${stacks.size} stack(s)`);
    process.exit(130);
  });
}

/** Count the commands an SDK client sends, by name. */
export function callCounter(client: IAMClient) {
  const calls: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
      calls[name] = (calls[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCallCounter', override: true },
  );
  return {
    calls,
    total: (): number => Object.values(calls).reduce((a, b) => a + b, 0),
    reset: (): void => {
      for (const k of Object.keys(calls)) delete calls[k];
    },
  };
}
