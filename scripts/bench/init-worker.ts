/**
 * Module init of one bundle in a fresh process: wall and CPU time around `await import(file)`,
 * and the RSS after it. `node dist/scripts/bench/init-worker.js '{"file":"/tmp/…/sync.mjs"}'`
 */
import { pathToFileURL } from 'node:url';

const { file } = JSON.parse(process.argv[2] ?? '{}') as { file: string };
const c0 = process.cpuUsage();
const t0 = performance.now();
const m = (await import(pathToFileURL(file).href)) as { handler?: unknown };
const t1 = performance.now();
const c = process.cpuUsage(c0);
if (typeof m.handler !== 'function') throw new Error(`${file} exports no handler`);
console.log(JSON.stringify({ ms: t1 - t0, cpuMs: (c.user + c.system) / 1000, rss: process.memoryUsage().rss }));
