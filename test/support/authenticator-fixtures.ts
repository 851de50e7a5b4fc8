/**
 * The parse fixtures (test/fixtures/core/parse/<case>.yaml, ConfigMaps as `kubectl get -o yaml`
 * prints them) with the authenticator's own reading of each recorded next to it as
 * <case>.authenticator.json (`npm run fixtures:record`). The unit test compares the syncer's
 * reading with the recorded one without the oracle binaries; the oracle test re-runs the oracle
 * and fails when a recording is stale. Not a test file.
 *
 * A recording holds, for every subset of the fixture's mapRoles / mapUsers / mapAccounts keys,
 * both versions' readings of the data restricted to that subset (so the unit test can leave out
 * whichever keys the syncer calls unsure without asking the oracle again), asked about every
 * caller ARN the text mentions; the oracle adds every ARN its store can match.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { ConfigMapObject } from '../../lib/core/types.js';
import { isCallerArn, probesInText } from './authenticator-compare.js';
import type { OracleCase, Reading, Readings } from './authenticator-oracle.js';

export const PARSE_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'core', 'parse');
const READ_KEYS = ['mapRoles', 'mapUsers', 'mapAccounts'] as const;

/** Case names (file names without .yaml), sorted. */
export function fixtureNames(): string[] {
  return readdirSync(PARSE_FIXTURES)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

export function loadFixture(name: string): ConfigMapObject {
  const cm = parse(readFileSync(join(PARSE_FIXTURES, `${name}.yaml`), 'utf8')) as ConfigMapObject;
  if (typeof cm !== 'object' || cm === null || typeof cm.metadata !== 'object') throw new Error(`${name}.yaml is not a ConfigMap`);
  return cm;
}

/** What a recording keeps of a reading (the store is left out: the answers say what it does). */
export type RecordedReading = Pick<Reading, 'keys' | 'parseError' | 'accounts' | 'derived' | 'identities'>;

export interface Recording {
  /** sha256 of the fixture's data keys as sent: a fixture edited since recording is stale. */
  input: string;
  probes: string[];
  /** Subset name (`mapRoles+mapUsers`, …; `none` for no key) → reading per version. */
  readings: Record<string, Record<keyof Readings, RecordedReading>>;
}

/** The keys the authenticator reads, as present in the fixture. */
export function readKeys(cm: ConfigMapObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of READ_KEYS) if (typeof cm.data?.[k] === 'string') out[k] = cm.data[k];
  return out;
}

export const subsetName = (keys: readonly string[]): string =>
  keys.length ? [...keys].sort((a, b) => READ_KEYS.indexOf(a as never) - READ_KEYS.indexOf(b as never)).join('+') : 'none';

/** The oracle cases to record for a fixture: one per subset of its keys. */
export function recordingCases(cm: ConfigMapObject): { input: string; probes: string[]; cases: { subset: string; request: OracleCase }[] } {
  const data = readKeys(cm);
  const present = READ_KEYS.filter((k) => k in data);
  const probes = probesInText(...Object.values(data)).filter((p) => isCallerArn(p));
  const cases = [];
  for (let mask = (1 << present.length) - 1; mask >= 0; mask--) {
    const keys = present.filter((_k, i) => mask & (1 << i));
    cases.push({ subset: subsetName(keys), request: { data: Object.fromEntries(keys.map((k) => [k, data[k]!])), probes } });
  }
  return { input: createHash('sha256').update(JSON.stringify(data)).digest('hex'), probes, cases };
}

export const recordingPath = (name: string): string => join(PARSE_FIXTURES, `${name}.authenticator.json`);

export function readRecording(name: string): Recording | undefined {
  const path = recordingPath(name);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Recording) : undefined;
}

/** The recording of these readings (stable key order, so that re-recording is a no-op). */
export function toRecording(input: string, probes: string[], readings: { subset: string; readings: Readings }[]): Recording {
  const keep = (r: Reading): RecordedReading => ({
    keys: r.keys,
    parseError: r.parseError,
    accounts: r.accounts,
    derived: r.derived,
    identities: r.identities,
  });
  return {
    input,
    probes,
    readings: Object.fromEntries(readings.map((x) => [x.subset, { 'v0.6.13': keep(x.readings['v0.6.13']), 'v0.7.18': keep(x.readings['v0.7.18']) }])),
  };
}

/** The text a recording file holds. */
export const recordingText = (r: Recording): string => `${JSON.stringify(r, null, 2)}\n`;
