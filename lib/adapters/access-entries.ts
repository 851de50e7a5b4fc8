/**
 * EKS access entries over @aws-sdk/client-eks (the client is a constructor argument).
 *
 * Reading: ListAccessEntries in pages of 100 (nextToken), then DescribeAccessEntry and — for
 * STANDARD entries — ListAssociatedAccessPolicies (also paginated) per entry, a few at a time.
 * An entry deleted between the list and the describe is left out (it is gone).
 *
 * Writing: the calls of a plan, one after the other, in the plan's order (additions before
 * removals: lib/core/access-entries.ts).
 *
 * Retries, in two layers:
 * - throttling, 5xx and network errors: the SDK client's own retry strategy (wire.ts builds the
 *   client with maxAttempts 8, adaptive mode — as for IAM), so every call is covered the same way;
 * - propagation: EKS can answer ResourceNotFoundException or InvalidRequestException for a few
 *   seconds after CreateAccessEntry when the next call names the new entry. The SDK cannot tell
 *   that from a real absence (and must not retry real ones), so this adapter retries just those
 *   two errors, just for entries it created in this run: a small bounded loop (PROPAGATION, about
 *   15 s in all), not a custom SDK retry strategy, since only here is "created a moment ago" known.
 * A create that fails with ResourceInUseException (an earlier attempt that timed out may have
 * landed) is accepted when the entry there carries the syncer's ownership tag for this cluster.
 */
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DisassociateAccessPolicyCommand,
  ListAccessEntriesCommand,
  ListAssociatedAccessPoliciesCommand,
  UpdateAccessEntryCommand,
  type EKSClient,
} from '@aws-sdk/client-eks';
import { OWNED_TAG, readAccessEntry, readAssociatedPolicy, type AccessEntry, type AccessEntryCall, type CurrentEntries } from '../core/access-entries.js';
import type { AccessPolicyGrant } from '../core/types.js';
import { ClusterAccessError } from '../errors.js';
import { silentLog, type AccessEntryStore, type Log } from '../app/ports.js';

/** Propagation retries after a create: delays in ms before each further attempt. */
export const PROPAGATION_DELAYS_MS = [500, 1000, 2000, 4000, 8000] as const;
export const PAGE_SIZE = 100;

export interface EksAccessEntryStoreOptions {
  /** maxResults per ListAccessEntries page (EKS allows 1–100). */
  pageSize?: number;
  /** Upper bound on pages, against a token that never ends. */
  maxPages?: number;
  /** Describe/ListAssociated calls in flight at once while reading. */
  concurrency?: number;
  /** Delays for the propagation retries (tests pass zeros). */
  propagationDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  log?: Log;
}

const name = (err: unknown): string => (err as { name?: string }).name ?? 'Error';
const message = (err: unknown): string => (err as Error).message ?? String(err);

export class EksAccessEntryStore implements AccessEntryStore {
  /** API calls made by the last read (for logs and tests). */
  lastReadCalls = 0;
  private readonly log: Log;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly eks: Pick<EKSClient, 'send'>,
    private readonly cluster: string,
    private readonly options: EksAccessEntryStoreOptions = {},
  ) {
    this.log = options.log ?? silentLog;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private fail(op: string, what: string, err: unknown): never {
    throw new ClusterAccessError(`EKS ${op} ${what} on cluster ${this.cluster} failed: ${name(err)}: ${message(err)}`, {
      cause: err,
      context: { cluster: this.cluster, op },
    });
  }

  /** Every page of a paginated call; a repeated token or too many pages is an error, never a short list. */
  private async pages<T extends { nextToken?: string }>(op: string, fetch: (token: string | undefined) => Promise<T>): Promise<T[]> {
    const maxPages = this.options.maxPages ?? 1000;
    const out: T[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      this.lastReadCalls++;
      const page = await fetch(token);
      out.push(page);
      token = page.nextToken || undefined;
      if (token !== undefined) {
        if (seen.has(token))
          throw new ClusterAccessError(`EKS ${op} returned the same nextToken twice (page ${out.length})`, { context: { cluster: this.cluster } });
        seen.add(token);
        if (out.length >= maxPages) throw new ClusterAccessError(`EKS ${op} exceeded ${maxPages} pages`, { context: { cluster: this.cluster } });
      }
    } while (token !== undefined);
    return out;
  }

  async read(): Promise<CurrentEntries> {
    this.lastReadCalls = 0;
    const maxResults = this.options.pageSize ?? PAGE_SIZE;
    let arns: string[];
    try {
      const pages = await this.pages('ListAccessEntries', (nextToken) =>
        this.eks.send(new ListAccessEntriesCommand({ clusterName: this.cluster, maxResults, nextToken })),
      );
      arns = pages.flatMap((p) => p.accessEntries ?? []);
    } catch (err) {
      if (err instanceof ClusterAccessError) throw err;
      this.fail('ListAccessEntries', '', err);
    }
    const entries: (AccessEntry | undefined)[] = new Array(arns.length);
    const policies: Record<string, AccessPolicyGrant[]> = {};
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < arns.length) {
        const i = next++;
        const arn = arns[i]!;
        const e = await this.describe(arn);
        if (!e) continue;
        entries[i] = e;
        if (e.type === 'STANDARD') {
          const p = await this.associated(arn);
          if (p) policies[arn] = p;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 4, arns.length) }, worker));
    const found = entries.filter((e): e is AccessEntry => e !== undefined);
    this.log.debug('access entries read', { cluster: this.cluster, entries: found.length, calls: this.lastReadCalls });
    return { entries: found, policies };
  }

  private async describe(principalArn: string): Promise<AccessEntry | undefined> {
    try {
      this.lastReadCalls++;
      const res = await this.eks.send(new DescribeAccessEntryCommand({ clusterName: this.cluster, principalArn }));
      return readAccessEntry(res.accessEntry, `DescribeAccessEntry ${principalArn}`);
    } catch (err) {
      if (name(err) === 'ResourceNotFoundException') return undefined; // deleted since the list
      this.fail('DescribeAccessEntry', principalArn, err);
    }
  }

  private async associated(principalArn: string): Promise<AccessPolicyGrant[] | undefined> {
    try {
      const pages = await this.pages('ListAssociatedAccessPolicies', (nextToken) =>
        this.eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName: this.cluster, principalArn, maxResults: PAGE_SIZE, nextToken })),
      );
      return pages.flatMap((p, n) =>
        (p.associatedAccessPolicies ?? []).map((a, i) => readAssociatedPolicy(a, `ListAssociatedAccessPolicies ${principalArn} page ${n + 1} [${i}]`)),
      );
    } catch (err) {
      if (err instanceof ClusterAccessError) throw err;
      if (name(err) === 'ResourceNotFoundException') return undefined;
      this.fail('ListAssociatedAccessPolicies', principalArn, err);
    }
  }

  /** Make the calls in order; stops at the first failure (ClusterAccessError with `applied` in its context). */
  async apply(calls: readonly AccessEntryCall[], onApplied: (call: AccessEntryCall) => void = () => {}): Promise<void> {
    const created = new Set<string>();
    for (const [i, call] of calls.entries()) {
      try {
        await this.one(call, created.has(call.principalArn));
      } catch (err) {
        const e = err instanceof ClusterAccessError ? err : undefined;
        throw new ClusterAccessError(
          `${e ? e.message : `EKS ${call.op} ${call.principalArn} failed: ${name(err)}: ${message(err)}`}; ${i} of ${calls.length} calls were made before it`,
          {
            cause: e?.cause ?? err,
            context: { cluster: this.cluster, op: call.op, principalArn: call.principalArn, applied: i, total: calls.length },
          },
        );
      }
      if (call.op === 'CreateAccessEntry') created.add(call.principalArn);
      if (call.op === 'DeleteAccessEntry') created.delete(call.principalArn);
      onApplied(call);
    }
  }

  private async one(call: AccessEntryCall, justCreated: boolean): Promise<void> {
    const delays = justCreated ? (this.options.propagationDelaysMs ?? PROPAGATION_DELAYS_MS) : [];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.send(call);
        return;
      } catch (err) {
        const propagating = name(err) === 'ResourceNotFoundException' || name(err) === 'InvalidRequestException';
        if (!propagating || attempt >= delays.length) this.fail(call.op, call.principalArn, err);
        this.log.info('access entry not visible yet after its creation; retrying', {
          op: call.op,
          principalArn: call.principalArn,
          attempt: attempt + 1,
          delayMs: delays[attempt],
        });
        await this.sleep(delays[attempt]!);
      }
    }
  }

  private async send(call: AccessEntryCall): Promise<void> {
    const clusterName = this.cluster;
    const { principalArn } = call;
    switch (call.op) {
      case 'CreateAccessEntry':
        try {
          await this.eks.send(
            new CreateAccessEntryCommand({
              clusterName,
              principalArn,
              kubernetesGroups: call.kubernetesGroups,
              username: call.username,
              type: 'STANDARD',
              tags: call.tags,
            }),
          );
        } catch (err) {
          if (name(err) !== 'ResourceInUseException') throw err;
          // Ours already (an earlier attempt landed)? Then the create is done; anyone else's: a conflict.
          const there = await this.describe(principalArn);
          if (there?.tags[OWNED_TAG] !== this.cluster) throw err;
          this.log.info('access entry already created (an earlier attempt landed)', { principalArn });
        }
        return;
      case 'UpdateAccessEntry':
        await this.eks.send(new UpdateAccessEntryCommand({ clusterName, principalArn, kubernetesGroups: call.kubernetesGroups, username: call.username }));
        return;
      case 'AssociateAccessPolicy':
        await this.eks.send(
          new AssociateAccessPolicyCommand({
            clusterName,
            principalArn,
            policyArn: call.policyArn,
            accessScope: call.accessScope.type === 'cluster' ? { type: 'cluster' } : { type: 'namespace', namespaces: call.accessScope.namespaces },
          }),
        );
        return;
      case 'DisassociateAccessPolicy':
        try {
          await this.eks.send(new DisassociateAccessPolicyCommand({ clusterName, principalArn, policyArn: call.policyArn }));
        } catch (err) {
          if (name(err) !== 'ResourceNotFoundException') throw err; // already gone
        }
        return;
      case 'DeleteAccessEntry':
        try {
          await this.eks.send(new DeleteAccessEntryCommand({ clusterName, principalArn }));
        } catch (err) {
          if (name(err) !== 'ResourceNotFoundException') throw err; // already gone
        }
        return;
    }
  }
}
