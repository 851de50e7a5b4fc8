// Stops every process the stack started (unless it was started by hand).
import { execFileSync } from 'node:child_process';

export default async function globalTeardown() {
  if (process.env.AAS_STACK_EXTERNAL === '1' || !process.env.AAS_STACK_DIR) return;
  execFileSync('bash', ['test/stack/stack.sh', 'down', process.env.AAS_STACK_DIR], { stdio: 'inherit' });
}
