/**
 * Hostile current aws-auth texts for issue 9 item 4 ("any current aws-auth up to 1 MiB plans in
 * ≤ 2 s and ≤ 256 MB RSS, hostile ones included"). Each case fills a byte budget of ConfigMap
 * data (keys and values, as the API server counts it) with one pathological shape, next to the
 * usual node, admin and syncer entries in mapRoles. Some are read, some are refused as unsure or
 * broken: either way the plan must finish within the bounds.
 */
import { ACCOUNT, UNMANAGED_ROLES, userArn } from './fixtures.js';
import { pad } from './lib.js';

export interface HostileCase {
  name: string;
  what: string;
  data(budget: number): Record<string, string>;
}

const size = (s: string): number => Buffer.byteLength(s);
/** `unit` repeated as often as it fits in `room` bytes. */
const repeat = (unit: string, room: number): string => unit.repeat(Math.max(0, Math.floor(room / size(unit))));
/** make(0), make(1), … while they fit in `room` bytes. */
function fill(make: (i: number) => string, room: number): string {
  const parts: string[] = [];
  let used = 0;
  for (let i = 0; ; i++) {
    const p = make(i);
    if (used + size(p) > room) return parts.join('');
    parts.push(p);
    used += size(p);
  }
}
const entry = (name: string, extra = ''): string => `- userarn: ${userArn(name)}\n  username: ${name}\n  groups:\n    - devs\n${extra}`;
const h = (i: number): string => `h-${pad(i)}`;

/** A case whose hostile text is mapUsers, next to the usual mapRoles. */
function users(name: string, what: string, text: (room: number) => string): HostileCase {
  return {
    name,
    what,
    data: (budget) => ({ mapRoles: UNMANAGED_ROLES, mapUsers: text(budget - size(UNMANAGED_ROLES) - size('mapRolesmapUsers')) }),
  };
}

const fan = (levels: number): string => {
  const lines = [`- userarn: ${userArn('fan')}`, '  username: fan', `  groups: &a0 [${Array(10).fill('x').join(', ')}]`];
  for (let l = 1; l <= levels; l++)
    lines.push(
      `  l${l}: &a${l} [${Array(10)
        .fill(`*a${l - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
};

/** 2^15 spellings of one IAM user name, all the same identity to the authenticator. */
const caseVariant = (i: number): string => [...'abcdefghijklmno'].map((c, j) => ((i >> j) & 1 ? c.toUpperCase() : c)).join('');

const nested = (depth: number): string => Array.from({ length: depth }, (_, k) => `${' '.repeat(2 + 2 * k)}n${k}:${k === depth - 1 ? ' v' : ''}\n`).join('');

const oneChar = (label: string, ch: string): HostileCase => users(`one-char-${label}`, `the whole budget of ${JSON.stringify(ch)}`, (room) => repeat(ch, room));

export const HOSTILE: readonly HostileCase[] = [
  users('alias-fan', "entries, then a 10-level alias fan at the end (10^11 nodes if expanded; the issue's 40 KB version took 80 s and 2 GB)", (room) => {
    const f = fan(10);
    return fill((i) => entry(h(i)), room - size(f)) + f;
  }),
  users('deep-flow', '`[[[…]]]` nested half a million deep', (room) => '['.repeat(Math.floor(room / 2)) + ']'.repeat(Math.floor(room / 2))),
  users('deep-block', 'every entry carries a field nested 28 mappings deep (the reader accepts 32 levels)', (room) =>
    fill((i) => entry(h(i), `  x:\n${nested(28).replace(/^(?=.)/gm, '  ')}`), room),
  ),
  users(
    'long-line',
    'one username that is a single plain scalar line of the whole budget',
    (room) => `- userarn: ${userArn('h')}\n  username: ${'x'.repeat(room - 100)}\n  groups: [devs]\n`,
  ),
  users('long-scalars', 'entries with 4 KiB plain usernames', (room) =>
    fill((i) => `- userarn: ${userArn(h(i))}\n  username: ${'u'.repeat(4096)}\n  groups: [devs]\n`, room),
  ),
  users('flow-items', '`[a,a,a,…]`: one flow sequence of half a million one-letter items', (room) => `[${repeat('a,', room - 3)}a]`),
  users('null-items', '`-` lines: half a million null items', (room) => repeat('-\n', room)),
  users(
    'flow-entries',
    'JSON-style entries, one per line in one flow sequence (cannot be spliced: rewritten whole)',
    (room) => `[${fill((i) => `{"userarn": "${userArn(h(i))}", "username": "${h(i)}", "groups": ["devs"]},\n`, room - 100)}{"userarn": "${userArn('last')}"}]`,
  ),
  users('comments', 'half a million comment lines, then one entry', (room) => repeat('#\n', room - 200) + entry('h-1')),
  users('comment-interleaved', 'every entry between 10 comment lines, with comments after each value', (room) =>
    fill(
      (i) =>
        `${'# reviewed by the platform team\n'.repeat(10)}- userarn: ${userArn(h(i))} # who\n  username: ${h(i)} # name\n  groups: # groups\n    - devs # team\n`,
      room,
    ),
  ),
  users('many-keys', 'one entry with eighty thousand unknown keys', (room) => entry('h') + fill((i) => `  k${pad(i)}: v\n`, room - 200)),
  users('near-field-names', 'entries with 40 keys each that nearly spell the fields (`UserName_1`, `userArn2`, `GROUPS-3`, …)', (room) =>
    fill((i) => entry(h(i), Array.from({ length: 10 }, (_, k) => `  UserName_${k}: x\n  userArn${k}: x\n  GROUPS-${k}: x\n  userid${k}x: x\n`).join('')), room),
  ),
  users(
    'duplicate-field-last',
    'valid entries, the last one filling `username` twice (`username`, `UserName`): the whole key is unsure',
    (room) => fill((i) => entry(h(i)), room - 200) + `- userarn: ${userArn('last')}\n  username: a\n  UserName: b\n`,
  ),
  users('escapes', 'every scalar double-quoted and written in `\\x`/`\\u` escapes', (room) =>
    fill(
      (i) =>
        `- userarn: "${[...userArn(h(i))].map((c) => `\\x${c.charCodeAt(0).toString(16)}`).join('')}"\n  username: "${'\\u0068\\u00e9'.repeat(20)}"\n  groups: ["\\x64\\x65\\x76\\x73"]\n`,
      room,
    ),
  ),
  users('unicode', 'usernames and groups of astral-plane characters (4 bytes each)', (room) =>
    fill((i) => `- userarn: ${userArn(h(i))}\n  username: "${'😀'.repeat(30)}"\n  groups: ["${'𝔘'.repeat(10)}"]\n`, room),
  ),
  users('duplicate-identity', 'one user ARN in every entry (`- userarn: …:user/a`, 44 bytes each)', (room) => repeat(`- userarn: ${userArn('a')}\n`, room)),
  users('case-variants', 'one IAM user written in thousands of case spellings, each its own entry (one identity to the authenticator)', (room) =>
    fill((i) => `- userarn: arn:aws:iam::${ACCOUNT}:user/${caseVariant(i)}\n`, room),
  ),
  users(
    'many-groups',
    'one entry (a wanted user) with a hundred thousand groups',
    (room) => `- userarn: ${userArn('user-000001')}\n  username: u\n  groups:\n${fill((i) => `    - g${pad(i)}\n`, room - 200)}`,
  ),
  users('crlf', '10,000 entries with CRLF line ends (cannot be spliced: rewritten whole)', (room) => fill((i) => entry(h(i)).replace(/\n/g, '\r\n'), room)),
  users('blank-lines', 'two entries with the whole budget of blank lines between them', (room) => `${entry('h-1')}${'\n'.repeat(room - 200)}${entry('h-2')}`),
  users(
    'trailing-spaces',
    'an entry whose first line ends in the whole budget of spaces',
    (room) => `- userarn: ${userArn('h-1')}${' '.repeat(room - 200)}\n  username: h-1\n${entry('h-2')}`,
  ),
  {
    name: 'many-accounts',
    what: 'mapAccounts with a hundred thousand account ids',
    data: (budget) => ({ mapRoles: UNMANAGED_ROLES, mapAccounts: fill((i) => `- "${pad(i, 12)}"\n`, budget - size(UNMANAGED_ROLES) - 40) }),
  },
  oneChar('a', 'a'),
  oneChar('dash', '-'),
  oneChar('bracket', '['),
  oneChar('quote', '"'),
  oneChar('colon', ':'),
  oneChar('space', ' '),
  oneChar('newline', '\n'),
];

export const hostileCase = (name: string): HostileCase => {
  const c = HOSTILE.find((x) => x.name === name);
  if (!c) throw new Error(`unknown hostile case ${name} (known: ${HOSTILE.map((x) => x.name).join(', ')})`);
  return c;
};
