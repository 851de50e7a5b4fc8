/**
 * IAM discovery: one paginated pass of GetAccountAuthorizationDetails (users with tags and
 * group lists, roles with tags, groups) instead of a call per role or per group. Throttling is
 * retried by the SDK client's retry strategy (configured in wire.ts); anything that still fails
 * — including a truncated page without a marker — is a DiscoveryError, never a short list.
 */
import { GetAccountAuthorizationDetailsCommand, type IAMClient } from '@aws-sdk/client-iam';
import { snapshotFromAuthorizationDetails, SnapshotFormatError, type AuthorizationDetailsPage } from '../core/iam-snapshot.js';
import type { IamSnapshot } from '../core/types.js';
import { DiscoveryError } from '../errors.js';
import type { IamDirectory, Log } from '../app/ports.js';
import { silentLog } from '../app/ports.js';

export interface IamDirectoryOptions {
  /** MaxItems per page (IAM allows up to 1000). */
  pageSize?: number;
  /** Upper bound on pages, against a marker that never ends. */
  maxPages?: number;
  log?: Log;
}

export class IamAuthorizationDetailsDirectory implements IamDirectory {
  /** API calls made by the last readSnapshot (for logs and benchmarks). */
  lastCallCount = 0;

  constructor(
    private readonly iam: Pick<IAMClient, 'send'>,
    private readonly options: IamDirectoryOptions = {},
  ) {}

  async readSnapshot(): Promise<IamSnapshot> {
    const pageSize = this.options.pageSize ?? 1000;
    const maxPages = this.options.maxPages ?? 10000;
    const log = this.options.log ?? silentLog;
    const pages: AuthorizationDetailsPage[] = [];
    const seen = new Set<string>();
    let marker: string | undefined;
    this.lastCallCount = 0;
    do {
      let page;
      try {
        this.lastCallCount++;
        page = await this.iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User', 'Role', 'Group'], MaxItems: pageSize, Marker: marker }));
      } catch (err) {
        throw new DiscoveryError(`IAM GetAccountAuthorizationDetails failed on page ${pages.length + 1}: ${(err as Error).name}: ${(err as Error).message}`, {
          cause: err,
          context: { page: pages.length + 1 },
        });
      }
      pages.push(page as unknown as AuthorizationDetailsPage);
      if (page.IsTruncated) {
        if (!page.Marker) throw new DiscoveryError(`IAM page ${pages.length} is truncated but has no marker`);
        if (seen.has(page.Marker)) throw new DiscoveryError(`IAM returned the same marker twice (page ${pages.length})`);
        seen.add(page.Marker);
        marker = page.Marker;
      } else {
        marker = undefined;
      }
      if (pages.length >= maxPages && marker) throw new DiscoveryError(`IAM listing exceeded ${maxPages} pages`);
    } while (marker);
    try {
      const snapshot = snapshotFromAuthorizationDetails(pages);
      log.debug('IAM pages read', { pages: pages.length });
      return snapshot;
    } catch (err) {
      if (err instanceof SnapshotFormatError) throw new DiscoveryError(`IAM returned an unexpected shape: ${err.message}`, { cause: err });
      throw err;
    }
  }
}
