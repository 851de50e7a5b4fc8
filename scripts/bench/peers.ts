/**
 * Section 6 — peers on paper: API calls per hour for an idle account and latency from an IAM
 * change to aws-auth current, ours against a 10-second poller with one call per group. Pure
 * arithmetic over the formulas stated in the section, fed with figures measured by the other
 * sections (from this run, or from the last one recorded in BENCHMARKS.md).
 */
import { int, ms, secs, table, type Ctx, type Section } from './lib.js';

export const section: Section = {
  id: 'peers',
  title: '6. Peers on paper: idle cost and change latency',
  run: async (ctx: Ctx) => run(ctx),
};

function run(ctx: Ctx) {
  const get = (sid: string) => ctx.results[sid] ?? ctx.previousData(sid);
  const disc = get('discovery');
  const e2e = get('e2e');
  const burst = get('burst');
  const PAGE = 1000;
  const SCHEDULE_H = 6;
  const POLL_S = 10;
  const GROUPS = 20;
  const pollsPerHour = 3600 / POLL_S;
  const accounts = [
    { users: 100, roles: 100 },
    { users: 1000, roles: 1000 },
    { users: 10000, roles: 2000 },
  ].map((a) => ({ ...a, entities: a.users + a.roles + GROUPS }));

  const rows = accounts.map((a) => {
    const pages = Math.ceil(a.entities / PAGE);
    const oursIam = pages / SCHEDULE_H;
    // DescribeCluster per run; GetCallerIdentity once per cold container (≤ once per run).
    const oursAll = (pages + 2) / SCHEDULE_H;
    const pollerGroups = pollsPerHour * GROUPS;
    const pollerRoles = pollsPerHour * (GROUPS + Math.ceil(a.roles / PAGE) + a.roles);
    return { ...a, pages, oursIam, oursAll, pollerGroups, pollerRoles };
  });
  const perCallMs = disc?.rows?.[disc.rows.length - 1]?.perCallMs;
  const syncMs = e2e?.incrementalMs;
  const burstDelay = burst?.delayMedianMs;
  const pollerLoopMs = perCallMs ? GROUPS * perCallMs : undefined;

  const md: string[] = [];
  md.push(
    `Formulas (no measurement of AWS itself; the inputs marked *measured* come from the sections above). **Ours**: the drift schedule runs every ${SCHEDULE_H} h, one discovery = ⌈entities / 1000⌉ GetAccountAuthorizationDetails pages, plus one EKS DescribeCluster and at most one STS GetCallerIdentity per run; no IAM event = no invocation = no call. **Poller**: a peer-style controller that polls every ${POLL_S} s with one GetGroup per mapped group (${GROUPS} groups; one page each up to 1,000 members), and — to see tagged roles as we do — ListRoles plus one ListRoleTags per role. Accounts as in section 1, ${GROUPS} groups.`,
  );
  md.push(
    table(
      [
        'account',
        'ours: IAM calls / hour idle',
        'ours: all AWS calls / hour idle',
        `poller: ${GROUPS} GetGroup every ${POLL_S} s`,
        'poller incl. ListRoleTags per role',
        'ratio (groups-only poller / ours, IAM)',
      ],
      rows.map((r) => [
        `${int(r.users)} users, ${int(r.roles)} roles, ${GROUPS} groups (${int(r.entities)} entities → ${r.pages} page${r.pages > 1 ? 's' : ''})`,
        r.oursIam.toFixed(2),
        r.oursAll.toFixed(2),
        int(r.pollerGroups),
        int(r.pollerRoles),
        `${int(r.pollerGroups / r.oursIam)}×`,
      ]),
    ),
  );
  md.push('Latency from an IAM change to aws-auth current:');
  md.push(
    table(
      ['', 'ours (EventBridge → SQS, 20 s window → one sync)', `poller (every ${POLL_S} s)`],
      [
        ['delivery', 'CloudTrail → EventBridge: seconds, best effort (not measurable here)', 'none: it finds the change by polling'],
        [
          'waiting',
          'the batching window: up to 20 s after the first event of a batch (a lone change waits the full 20 s; in a burst the later events wait less)',
          `up to ${POLL_S} s (${POLL_S / 2} s on average) for the next poll`,
        ],
        [
          'work',
          `one sync: ${syncMs ? `${ms(syncMs)} *measured* (section 5, one-change sync at ${int(e2e.users)} users / ${int(e2e.roles)} roles)` : 'see section 5'}`,
          `its loop: ${GROUPS} GetGroup calls${pollerLoopMs ? ` ≈ ${ms(pollerLoopMs)} at ${ms(perCallMs)} per call *measured* against moto (real IAM is slower per call)` : ''}, plus its own write`,
        ],
        [
          'total',
          `≈ EventBridge delivery + ≤ 20 s + ${syncMs ? secs(syncMs) : 'one sync'}${burstDelay ? `; a ${burst.users}-event burst was current ${secs(burstDelay)} after its last event (*measured*, section 4, delivery not included)` : ''}`,
          `≤ ${POLL_S} s + ${pollerLoopMs ? secs(pollerLoopMs) : 'its loop'}`,
        ],
        ['missed event', `the ${SCHEDULE_H}-hourly schedule repairs drift within ${SCHEDULE_H} h`, 'the next poll'],
      ],
    ),
  );
  const big = rows[rows.length - 1]!;
  md.push(
    `In short: the poller answers a change some seconds sooner (no batching window, no EventBridge hop) and pays for it every ${POLL_S} s whether anything changed or not — ${int(big.pollerGroups)} IAM calls an hour for ${GROUPS} groups (${int(big.pollerGroups * 24)} a day), ${int(big.pollerRoles)} an hour once it also reads role tags at ${int(big.roles)} roles — against ${big.oursIam.toFixed(2)} IAM calls an hour for an idle account of ${int(big.entities)} entities here. IAM throttles its control-plane API per account, and those calls compete with every other IAM caller in the account; ours spend it only when IAM changes.`,
  );
  const headline = `idle account of ${int(big.entities)} entities: ${big.oursIam.toFixed(2)} IAM calls/hour (one ${big.pages}-page discovery every ${SCHEDULE_H} h) vs ${int(big.pollerGroups)}/hour for a ${POLL_S}-s poller with one call per group (${GROUPS} groups); change → aws-auth current ≈ EventBridge delivery + ≤ 20 s window + one sync${syncMs ? ` (${secs(syncMs)})` : ''}, vs ≤ ${POLL_S} s + the poller's loop.`;
  return { markdown: md.join('\n\n'), data: { headline, rows } };
}
