/**
 * The CLI's way to the API server: @kubernetes/client-node's CoreV1Api over a KubeConfig —
 * the operator's kubeconfig file and context (exec credential plugins such as
 * `aws eks get-token`, client certificates, proxies: whatever kubectl would use). Without
 * --kubeconfig/--context the CLI reaches the cluster as the Lambda does (kube.ts). Never
 * imported by the Lambda handlers (kube.ts says why).
 *
 * The typed client would hand back a V1ConfigMap model (timestamps turned into Date, fields it
 * does not know dropped) and would serialise our object through the same model. A backup must be
 * the object exactly as served and a write must send exactly what was planned, so one
 * middleware per request sets the exact body and deadline before sending, and keeps the raw
 * status and body text of the reply before the client deserialises it. The typed result and
 * ApiException are then ignored: the raw reply is the answer.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, Observable, ResponseContext, type RequestContext, type V1ConfigMap } from '@kubernetes/client-node';
import { AWS_AUTH_NAME, AWS_AUTH_NAMESPACE } from '../core/render.js';
import { InputError } from '../errors.js';
import type { KubeConnection, KubeReply } from './kube.js';

/**
 * The operator's kubeconfig, as kubectl reads it: `file` (else KUBECONFIG, else ~/.kube/config)
 * and `context` (else its current-context). Bad input is an InputError naming the problem.
 */
export function loadKubeConfig(opts: { file?: string; context?: string }): KubeConfig {
  const kc = new KubeConfig();
  const where = opts.file ?? (process.env.KUBECONFIG ? `KUBECONFIG (${process.env.KUBECONFIG})` : '~/.kube/config');
  // Without a file (and outside a pod) client-node falls back to a made-up localhost context
  // ("loaded-context"): name the missing file instead.
  if (!opts.file && !process.env.KUBECONFIG && !process.env.KUBERNETES_SERVICE_HOST && !existsSync(join(homedir(), '.kube', 'config')))
    throw new InputError('no kubeconfig: ~/.kube/config does not exist and KUBECONFIG is not set (name one with --kubeconfig)');
  try {
    if (opts.file) kc.loadFromFile(opts.file);
    else kc.loadFromDefault();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new InputError(`kubeconfig ${where} cannot be read (${e.code ?? e.message.split('\n')[0]})`);
  }
  if (opts.context !== undefined) {
    if (!kc.getContextObject(opts.context)) {
      const names = kc.getContexts().map((c) => c.name);
      throw new InputError(`--context ${opts.context}: no such context in ${where} (contexts: ${names.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(opts.context);
  }
  const context = kc.getContextObject(kc.getCurrentContext());
  if (!context)
    throw new InputError(
      kc.getContexts().length === 0 ? `${where} is not a kubeconfig (it has no contexts)` : `${where} has no current context: name one with --context`,
    );
  if (!kc.getCurrentCluster()) throw new InputError(`${where}: context ${context.name} names cluster ${context.cluster}, which is not defined`);
  return kc;
}

/**
 * The EKS cluster a kubeconfig context points at, when its names say so: `aws eks
 * update-kubeconfig` names clusters by ARN (…:cluster/NAME), eksctl as NAME.REGION.eksctl.io.
 * Undefined when the names say nothing (a hand-written kubeconfig).
 */
export function eksClusterName(kc: KubeConfig): string | undefined {
  const name = kc.getCurrentCluster()?.name ?? '';
  return /^arn:aws[\w-]*:eks:[\w-]+:\d{12}:cluster\/(.+)$/.exec(name)?.[1] ?? /^([^.]+)\.[a-z0-9-]+\.eksctl\.io$/.exec(name)?.[1];
}

/** CoreV1Api read/create/replace of kube-system/aws-auth, with the raw reply kept. */
export function clientNodeConnection(kc: KubeConfig): KubeConnection {
  const api = kc.makeApiClient(CoreV1Api);
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  return {
    server,
    async send(op, body, signal) {
      let raw: KubeReply | undefined;
      const middleware = {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(signal);
          if (body !== undefined) ctx.setBody(body);
          return new Observable(Promise.resolve(ctx));
        },
        post: (rsp: ResponseContext) =>
          new Observable(
            rsp.body.text().then((text) => {
              raw = { status: rsp.httpStatusCode, body: text };
              return new ResponseContext(rsp.httpStatusCode, rsp.headers, { text: async () => text, binary: async () => Buffer.from(text, 'utf8') });
            }),
          ),
      };
      const options = { middleware: [middleware], middlewareMergeStrategy: 'append' as const };
      // The typed parameter is required by the signature; the middleware sends `body` verbatim.
      const typed = body === undefined ? undefined : (JSON.parse(body) as V1ConfigMap);
      try {
        if (op === 'read') await api.readNamespacedConfigMap({ name: AWS_AUTH_NAME, namespace: AWS_AUTH_NAMESPACE }, options);
        else if (op === 'create') await api.createNamespacedConfigMap({ namespace: AWS_AUTH_NAMESPACE, body: typed! }, options);
        else await api.replaceNamespacedConfigMap({ name: AWS_AUTH_NAME, namespace: AWS_AUTH_NAMESPACE, body: typed! }, options);
      } catch (err) {
        // Any status other than 2xx is an ApiException: the raw reply says what it was. No reply
        // at all (network, TLS, deadline, exec plugin failure) is the transport's error.
        if (!raw) throw err;
      }
      if (!raw) throw new Error('the Kubernetes client returned without a reply');
      return raw;
    },
  };
}
