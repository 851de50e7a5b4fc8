/**
 * Credentials for a cluster in another account: STS AssumeRole of the cluster's `roleArn`, with
 * a session name that names the syncer and the cluster (`aws-auth-syncer-<cluster>`), so the
 * member account's CloudTrail and the cluster's audit log say who came in and for what.
 *
 * Why not `fromTemporaryCredentials` (@aws-sdk/credential-providers): it builds a second STS
 * client of its own (@aws-sdk/nested-clients) plus the whole default provider chain, while the
 * functions already carry an STS client — the one Powertools Tracer instruments. This is the
 * part of it the syncer needs: one AssumeRole per session, reused until five minutes before it
 * expires, and a failure that names the role.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Clock } from '../app/ports.js';
import { ClusterAccessError } from '../errors.js';

/** Sessions last 15 minutes (STS's minimum): a run needs a few seconds, and a short session limits a leak. */
export const SESSION_SECONDS = 900;
const RENEW_BEFORE_MS = 5 * 60 * 1000;

/** `aws-auth-syncer-<cluster>`, within STS's 64 characters of `[\w+=,.@-]`. */
export function sessionNameFor(cluster: string): string {
  return `aws-auth-syncer-${cluster}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

export function assumedRoleCredentials(sts: Pick<STSClient, 'send'>, roleArn: string, cluster: string, clock: Clock): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  const fetch = async (): Promise<AwsCredentialIdentity> => {
    try {
      const r = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionNameFor(cluster), DurationSeconds: SESSION_SECONDS }));
      const c = r.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('no credentials in the reply');
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      };
    } catch (err) {
      throw new ClusterAccessError(`could not assume ${roleArn} for cluster ${cluster}: ${(err as Error).name}: ${(err as Error).message}`, {
        cause: err,
        context: { cluster, roleArn },
      });
    }
  };
  return async () => {
    const held = current ? await current.catch(() => undefined) : undefined;
    if (held && (!held.expiration || held.expiration.getTime() - clock.now().getTime() > RENEW_BEFORE_MS)) return held;
    // A failed attempt is not kept: the next call asks STS again.
    const attempt = fetch();
    current = attempt;
    attempt.catch(() => {
      if (current === attempt) current = undefined;
    });
    return attempt;
  };
}
