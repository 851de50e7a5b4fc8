/**
 * The configuration text from SSM Parameter Store (`configParameter` in serverless.yml,
 * SYNCER_CONFIG_PARAMETER in the function). It is fetched on every invocation and validated by
 * lib/config.ts each time, so an edit takes effect without a redeploy and a bad edit is caught
 * before anything is written.
 *
 * A cache of CONFIG_CACHE_MS (5 s) sits in front of GetParameter. Why at all: invocations come
 * back to back (an SQS batch right behind another, a dry run then the real run), and every
 * syncer in the account shares SSM's GetParameter rate; why so short: a person who edits the
 * parameter and invokes the function by hand must get the new configuration, not one from a
 * minute ago. A failed read is never cached and never falls back to an older value: a sync
 * must not apply a configuration someone has just replaced.
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError, ConfigSourceError } from '../errors.js';

export const CONFIG_CACHE_MS = 5000;

export interface ParameterText {
  text: string;
  /** The parameter's version (logged, so a run can be tied to the edit it used). */
  version?: number;
}

export class SsmConfigParameter {
  private cached?: ParameterText & { at: number };

  constructor(
    private readonly ssm: Pick<SSMClient, 'send'>,
    readonly name: string,
    private readonly options: { maxAgeMs?: number; now?: () => number } = {},
  ) {}

  async read(): Promise<ParameterText> {
    const now = this.options.now?.() ?? Date.now();
    const maxAge = this.options.maxAgeMs ?? CONFIG_CACHE_MS;
    if (this.cached && now - this.cached.at < maxAge && now >= this.cached.at) return { text: this.cached.text, version: this.cached.version };
    let res;
    try {
      // WithDecryption: a SecureString is decrypted (kms:Decrypt through SSM); a String is unaffected.
      res = await this.ssm.send(new GetParameterCommand({ Name: this.name, WithDecryption: true }));
    } catch (err) {
      const e = err as Error;
      if (e.name === 'ParameterNotFound') {
        throw new ConfigError(`SSM parameter ${this.name} (SYNCER_CONFIG_PARAMETER) does not exist`, { cause: err, context: { parameter: this.name } });
      }
      throw new ConfigSourceError(`cannot read SSM parameter ${this.name}: ${e.name}: ${e.message}`, { cause: err, context: { parameter: this.name } });
    }
    const text = res.Parameter?.Value;
    if (text === undefined) throw new ConfigSourceError(`SSM parameter ${this.name} came back without a value`, { context: { parameter: this.name } });
    this.cached = { text, version: res.Parameter?.Version, at: now };
    return { text, version: res.Parameter?.Version };
  }
}
