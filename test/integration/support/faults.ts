/**
 * Fault injection around the real services: a loopback HTTP proxy in front of moto that can
 * answer some requests with an AWS error or a tampered page instead of forwarding them, and
 * helpers to freeze the real kube-apiserver process (SIGSTOP/SIGCONT).
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stack } from './stack.js';

export type Rule = (req: {
  action?: string;
  body: string;
  url: string;
}) => undefined | { status: number; body: string; contentType?: string } | { rewrite: (text: string) => string };

export interface FaultProxy {
  url: string;
  seen: string[];
  close(): Promise<void>;
}

/** Start a proxy to moto. `rule` decides per request: pass (undefined), fail, or rewrite. */
export async function faultProxy(rule: Rule): Promise<FaultProxy> {
  const target = new URL(stack().motoEndpoint);
  const seen: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1];
      seen.push(action ?? `${req.method} ${req.url}`);
      const decision = rule({ action, body, url: req.url ?? '/' });
      if (decision && 'status' in decision) {
        res.writeHead(decision.status, { 'Content-Type': decision.contentType ?? 'text/xml' });
        res.end(decision.body);
        return;
      }
      const up = request(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (upRes) => {
          const parts: Buffer[] = [];
          upRes.on('data', (c: Buffer) => parts.push(c));
          upRes.on('end', () => {
            let text = Buffer.concat(parts).toString('utf8');
            if (decision && 'rewrite' in decision) text = decision.rewrite(text);
            const headers = { ...upRes.headers };
            delete headers['content-length'];
            res.writeHead(upRes.statusCode ?? 502, headers);
            res.end(text);
          });
        },
      );
      up.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

export const throttlingXml = `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>`;

/** Freeze the real kube-apiserver (it stops answering; connections hang) until `thaw`. */
export function freezeApiserver(): () => void {
  const pid = stack().pids['kube-apiserver']!;
  process.kill(pid, 'SIGSTOP');
  let thawed = false;
  return () => {
    if (!thawed) process.kill(pid, 'SIGCONT');
    thawed = true;
  };
}

/** A TCP port on 127.0.0.1 where nothing listens (an apiserver or S3 that is down). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
