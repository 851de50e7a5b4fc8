/**
 * The KMS HMAC key that signs backups, created in moto as serverless.yml creates it in AWS
 * (KeySpec HMAC_256, KeyUsage GENERATE_VERIFY_MAC). moto implements GenerateMac/VerifyMac with
 * real HMACs; it does not enforce key policies (only a Deny on DescribeKey), so "only the syncer
 * roles may use the key" is AWS's to enforce and is checked on the template, not here.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { stack } from './stack.js';

const adminCreds = { accessKeyId: 'AKIAADMIN0000000TEST', secretAccessKey: 'admin-secret' };

export const kmsClient = (): KMSClient => new KMSClient({ region: stack().region, endpoint: stack().motoEndpoint, credentials: adminCreds });

/** A fresh HMAC key (its ARN and region), e.g. to play another deployment's key. */
export async function createMacKey(description = 'aws-auth-syncer backups (test)'): Promise<{ id: string; region: string }> {
  const r = await kmsClient().send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Description: description }));
  return { id: r.KeyMetadata!.Arn!, region: stack().region };
}

let shared: Promise<{ id: string; region: string }> | undefined;
/** The backup signing key of this test process (one per file, like the stack's one per deployment). */
export function backupMacKey(): Promise<{ id: string; region: string }> {
  return (shared ??= createMacKey());
}
