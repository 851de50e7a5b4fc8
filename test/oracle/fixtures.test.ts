/**
 * The parse fixtures' recorded authenticator readings (test/fixtures/core/parse/*.authenticator.json)
 * are what the authenticator's own code says today: this re-runs the oracle on every fixture and
 * fails when a recording is stale (a fixture edited, or the oracle or an authenticator version
 * changed). `npm run fixtures:record` (RECORD_FIXTURES=1) writes them instead.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PARSE_FIXTURES,
  fixtureNames,
  loadFixture,
  readRecording,
  recordingCases,
  recordingPath,
  recordingText,
  toRecording,
} from '../support/authenticator-fixtures.js';
import { AuthenticatorOracle } from '../support/authenticator-oracle.js';

const RECORD = process.env.RECORD_FIXTURES === '1';

let oracle: AuthenticatorOracle;
beforeAll(async () => {
  oracle = await AuthenticatorOracle.start();
});
afterAll(async () => {
  await oracle?.close();
});

describe(`parse fixtures: recorded authenticator readings${RECORD ? ' (recording)' : ''}`, () => {
  test.each(fixtureNames())('%s', async (name) => {
    const { input, probes, cases } = recordingCases(loadFixture(name));
    const readings = await oracle.readAll(cases.map((c) => c.request));
    const fresh = toRecording(
      input,
      probes,
      cases.map((c, i) => ({ subset: c.subset, readings: readings[i]! })),
    );
    if (RECORD) writeFileSync(recordingPath(name), recordingText(fresh));
    const recorded = readRecording(name);
    if (recorded === undefined) throw new Error(`${name}.authenticator.json is missing: run npm run fixtures:record`);
    // A difference means the recording is stale: run npm run fixtures:record and review the diff.
    expect(recorded).toEqual(fresh);
  });

  test('no recording without its fixture', () => {
    const orphans = readdirSync(PARSE_FIXTURES)
      .filter((f) => f.endsWith('.authenticator.json'))
      .filter((f) => !existsSync(join(PARSE_FIXTURES, f.replace(/\.authenticator\.json$/, '.yaml'))));
    expect(orphans).toEqual([]);
  });
});
