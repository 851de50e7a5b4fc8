/**
 * The username index: which usernames in use a new one can be the same as at login, found
 * without comparing every pair, and the same answer as comparing every pair.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { UsernameIndex, usernamesMayMeet } from '../../../lib/core/usernames.js';

describe('UsernameIndex', () => {
  test('finds fixed names and templates either way, never the asker itself, and forgets a removed user', () => {
    const index = new UsernameIndex();
    index.add('user:alice', { id: 'a' });
    index.add('ci:{{SessionName}}', { id: 'ci' });
    index.add('admin', { where: 'mapRoles[1]' });
    expect(index.meets('user:{{SessionName}}', 'x')).toEqual({ name: 'user:alice', user: { id: 'a' } });
    expect(index.meets('ci:deploy', 'x')).toEqual({ name: 'ci:{{SessionName}}', user: { id: 'ci' } });
    expect(index.meets('c{{SessionName}}', 'x')?.name).toBe('ci:{{SessionName}}');
    expect(index.meets('admin', 'x')).toEqual({ name: 'admin', user: { where: 'mapRoles[1]' } });
    expect(index.meets('user:alice', 'a')).toBeUndefined();
    expect(index.meets('team:{{SessionName}}', 'x')).toBeUndefined();
    index.remove('user:alice', 'a');
    expect(index.meets('user:{{SessionName}}', 'x')).toBeUndefined();
  });

  test('answers as comparing every pair would (generated names)', () => {
    const part = fc.constantFrom('a', 'b', ':', 'ci', '{{SessionName}}', '{{AccessKeyID}}', '-x');
    const name = fc.array(part, { minLength: 1, maxLength: 4 }).map((p) => p.join(''));
    fc.assert(
      fc.property(fc.array(name, { maxLength: 12 }), name, (used, asked) => {
        const index = new UsernameIndex();
        used.forEach((n, i) => index.add(n, { id: `p${i}` }));
        const pairwise = used.some((n) => usernamesMayMeet(asked, n));
        expect(index.meets(asked, 'self') !== undefined).toBe(pairwise);
      }),
      { numRuns: 2000 },
    );
  });
});
