import { describe, expect, test } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import type { SourceData } from '@smithy/types';
import { createEksToken, stsHostname, TOKEN_PREFIX } from '../../../lib/adapters/eks.js';

/** SHA-256 / HMAC-SHA-256 in the shape SignatureV4 expects (the SDK passes its own in production). */
class Sha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {}
}

function toBuffer(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = new Date('2026-11-28T12:34:56.000Z');

function decode(token: string): URL {
  expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
  const b64 = token.slice(TOKEN_PREFIX.length);
  expect(b64).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(b64, 'base64url').toString('utf8'));
}

describe('createEksToken (frozen clock)', () => {
  test('the exact token for fixed credentials, region, cluster and time', async () => {
    const token = await createEksToken({ cluster: 'demo', region: 'eu-west-1', credentials, sha256: Sha256, now });
    const url = decode(token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261128/eu-west-1/sts/aws4_request');
    expect(q.get('X-Amz-Date')).toBe('20261128T123456Z');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // Recompute the SigV4 presigned signature independently (canonical request → string to
    // sign → HMAC chain), as STS will when the authenticator calls the URL.
    expect(q.get('X-Amz-Signature')).toBe(independentSignature(url, 'demo', 'eu-west-1'));
  });

  test('same inputs, same token; another cluster or time, another signature', async () => {
    const a = await createEksToken({ cluster: 'demo', region: 'eu-west-1', credentials, sha256: Sha256, now });
    const b = await createEksToken({ cluster: 'demo', region: 'eu-west-1', credentials, sha256: Sha256, now });
    const c = await createEksToken({ cluster: 'prod', region: 'eu-west-1', credentials, sha256: Sha256, now });
    const d = await createEksToken({ cluster: 'demo', region: 'eu-west-1', credentials, sha256: Sha256, now: new Date(now.getTime() + 1000) });
    expect(a).toBe(b);
    const sig = (t: string) => decode(t).searchParams.get('X-Amz-Signature');
    expect(sig(c)).not.toBe(sig(a));
    expect(sig(d)).not.toBe(sig(a));
  });

  test('session credentials add X-Amz-Security-Token; China regions use the .cn host', async () => {
    const t = await createEksToken({ cluster: 'demo', region: 'cn-north-1', credentials: { ...credentials, sessionToken: 'SESSION/+=' }, sha256: Sha256, now });
    const url = decode(t);
    expect(url.host).toBe('sts.cn-north-1.amazonaws.com.cn');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('SESSION/+=');
    expect(stsHostname('us-gov-west-1')).toBe('sts.us-gov-west-1.amazonaws.com');
  });
});

/** SigV4 query-string signing, written from the AWS documentation, for the check above. */
function independentSignature(url: URL, cluster: string, region: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const enc = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const canonicalQuery = params
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = `host:${url.host}\nx-k8s-aws-id:${cluster}\n`;
  const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, 'host;x-k8s-aws-id', createHash('sha256').update('').digest('hex')].join('\n');
  const date = url.searchParams.get('X-Amz-Date')!;
  const scope = `${date.slice(0, 8)}/${region}/sts/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  let key = hmac(`AWS4${credentials.secretAccessKey}`, date.slice(0, 8));
  key = hmac(key, region);
  key = hmac(key, 'sts');
  key = hmac(key, 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}
