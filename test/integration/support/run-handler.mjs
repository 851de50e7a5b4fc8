// Runs one compiled Lambda handler in its own process, as Lambda would: env in, event in,
// structured logs on stdout, the reply as the last line (prefixed REPLY:).
// usage: node run-handler.mjs <sync|restore|backups> '<event json>'
const [name, event] = process.argv.slice(2);
const { handler } = await import(new URL(`../../../dist/handlers/${name}.js`, import.meta.url).href);
try {
  const reply = await handler(JSON.parse(event ?? '{}'));
  process.stdout.write(`REPLY:${JSON.stringify(reply)}\n`);
} catch (err) {
  process.stdout.write(`REPLY:${JSON.stringify({ thrown: err.name, message: err.message })}\n`);
  process.exitCode = 1;
}
