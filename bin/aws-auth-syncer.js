#!/usr/bin/env node
// The aws-auth-syncer command. The TypeScript is compiled to dist/ by `npm ci` (prepare script).
import { existsSync } from 'node:fs';
const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('aws-auth-syncer: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
// stdout closed early (`| head`) ends the command quietly; another write failure (a full disk) is
// one line on stderr, not a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`aws-auth-syncer: cannot write the output: ${err.code ?? err.message}\n`);
  process.exit(1);
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
