#!/usr/bin/env node
// EKS bearer token made by the syncer's OWN compiled code (dist/lib/adapters/eks.js,
// createEksToken), for the stack's checks -- TEST INFRASTRUCTURE. Needs `npm run build`.
//
//   node test/stack/eks_token.mjs --cluster aas-local --region us-east-1 [--age-seconds N]
// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (optional).
// --age-seconds N signs as of N seconds ago (X-Amz-Date in the past), for expiry checks.
// Prints the token (k8s-aws-v1.…) on stdout.
import { createHash, createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.AAS_REPO ?? resolve(here, '../..'), 'dist/lib/adapters/eks.js');
if (!existsSync(dist)) {
  console.error(`eks_token.mjs: ${dist} not found: run \`npm run build\` first`);
  process.exit(2);
}
const { createEksToken } = await import(pathToFileURL(dist).href);

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const cluster = args.cluster ?? process.env.AAS_CLUSTER;
const region = args.region ?? process.env.AAS_REGION;
const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
if (!cluster || !region || !accessKeyId || !secretAccessKey) {
  console.error('usage: AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… [AWS_SESSION_TOKEN=…] eks_token.mjs --cluster C --region R [--age-seconds N]');
  process.exit(2);
}
const credentials = { accessKeyId, secretAccessKey, ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}) };

// SHA-256 / HMAC-SHA-256 in the shape SignatureV4 expects (the SDK passes its own in Lambda).
const toBuffer = (d) =>
  typeof d === 'string' ? Buffer.from(d, 'utf8') : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);
class Sha256 {
  constructor(secret) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data) {
    this.h.update(toBuffer(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
  reset() {}
}

const now = new Date(Date.now() - 1000 * Number(args['age-seconds'] ?? 0));
process.stdout.write(`${await createEksToken({ cluster, region, credentials, sha256: Sha256, now })}\n`);
