/**
 * The operator's AWS profile, read as the aws CLI reads it, through the SDK's own shared-config
 * loader (@smithy/core/config: AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE,
 * `[profile NAME]` sections): no parser of ~/.aws/config of our own.
 */
import { getProfileName, loadConfig, loadSharedConfigFiles } from '@smithy/core/config';
import { InputError } from '../errors.js';

/**
 * The region of a live CLI run when the config names none: AWS_REGION, AWS_DEFAULT_REGION,
 * then the profile's `region` (like the aws CLI). Undefined when none of them says.
 */
export async function regionFromEnvOrProfile(profile?: string): Promise<string | undefined> {
  const region = await loadConfig<string | undefined>(
    {
      environmentVariableSelector: (env) => env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
      configFileSelector: (section) => section.region || undefined,
      default: () => undefined,
    },
    { profile, ignoreCache: true },
  )();
  return region;
}

/**
 * Fail early, with the name, when an explicit profile is in neither shared file (the SDK would
 * otherwise report it on the first AWS call, wrapped in that call's error).
 */
export async function assertProfileExists(profile: string | undefined): Promise<void> {
  if (profile === undefined) return;
  const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true });
  if (configFile[profile] || credentialsFile[profile]) return;
  const known = [...new Set([...Object.keys(configFile), ...Object.keys(credentialsFile)])].sort();
  throw new InputError(`--profile ${profile}: no such profile in the AWS config or credentials file${known.length ? ` (profiles: ${known.join(', ')})` : ''}`);
}

/** The profile a run uses: --profile, else AWS_PROFILE, else "default" (for messages). */
export const profileInUse = (profile?: string): string => getProfileName({ profile });
