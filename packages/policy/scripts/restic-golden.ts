/**
 * Regenerates test/golden/restic-forget.json with the restic on PATH: makes snapshots at chosen
 * times, offsets and tags in a temporary repository, runs `restic forget --dry-run --json` with
 * each keep policy, and records what restic keeps, removes and why.
 *
 *   node packages/policy/scripts/restic-golden.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Planned {
  /** Local wall time as restic's --time takes it. */
  time: string;
  zone: string;
  tags: string[];
  /** Most snapshots come from one host; some from a second, so restic groups them. */
  host?: string;
}

/** Deterministic pseudo-random numbers, so the golden file is stable across runs. */
function* random(seed: number): Generator<number> {
  let state = seed;
  for (;;) {
    state = (state * 1103515245 + 12345) % 2147483648;
    yield state / 2147483648;
  }
}

function plannedSnapshots(): Planned[] {
  const planned: Planned[] = [
    // ISO week edges: 2014-12-29 is in 2015-W01; 2015 has a week 53 (Dec 28 – Jan 3).
    { time: '2014-12-28 23:00:00', zone: 'UTC', tags: [] },
    { time: '2014-12-29 01:00:00', zone: 'UTC', tags: ['foo'] },
    { time: '2015-12-28 08:00:00', zone: 'UTC', tags: ['bar'] },
    { time: '2016-01-03 22:00:00', zone: 'UTC', tags: [] },
    { time: '2016-01-04 00:30:00', zone: 'UTC', tags: ['foo', 'bar'] },
    // New York daylight saving: the last EST and first EDT hours, and the repeated hour.
    { time: '2015-03-08 01:30:00', zone: 'America/New_York', tags: [] },
    { time: '2015-03-08 03:30:00', zone: 'America/New_York', tags: ['foo'] },
    { time: '2015-11-01 00:30:00', zone: 'America/New_York', tags: [] },
    { time: '2015-11-01 01:30:00', zone: 'America/New_York', tags: ['bar'] },
    { time: '2015-11-01 02:30:00', zone: 'America/New_York', tags: [] },
    // Offsets that put the local day, month or year on the other side of UTC's.
    { time: '2016-01-01 10:30:00', zone: 'Pacific/Auckland', tags: [] },
    { time: '2015-12-31 20:00:00', zone: 'America/Los_Angeles', tags: ['foo'] },
    { time: '2015-06-30 23:45:00', zone: 'Asia/Kolkata', tags: [] },
    { time: '2015-10-04 02:15:00', zone: 'Australia/Lord_Howe', tags: ['bar'] },
    // Leap day, month ends and a dense hourly cluster.
    { time: '2016-02-29 12:00:00', zone: 'Europe/London', tags: [] },
    { time: '2016-03-27 00:30:00', zone: 'Europe/London', tags: [] },
    { time: '2016-03-27 02:30:00', zone: 'Europe/London', tags: ['foo'] },
    { time: '2016-03-31 23:59:59', zone: 'UTC', tags: [] },
  ];
  for (let hour = 0; hour < 8; hour++)
    planned.push({
      time: `2016-03-10 0${hour}:1${hour}:00`,
      zone: 'UTC',
      tags: hour % 3 ? [] : ['foo'],
    });
  const rng = random(7);
  const start = Date.UTC(2014, 9, 1);
  const end = Date.UTC(2016, 3, 1);
  const tagChoices = [[], [], ['foo'], ['bar'], ['foo', 'bar']];
  for (let i = 0; i < 34; i++) {
    const ms = start + Math.floor(rng.next().value! * (end - start));
    const time = new Date(Math.floor(ms / 1000) * 1000)
      .toISOString()
      .replace('T', ' ')
      .slice(0, 19);
    const tags = tagChoices[Math.floor(rng.next().value! * 5)]!;
    planned.push({ time, zone: 'UTC', tags, ...(i % 4 === 0 ? { host: 'second' } : {}) });
  }
  return planned;
}

/** Each case: restic flags, and the same rules as `applyResticKeepRules` takes them. */
const cases: Array<{ args: string[]; rules: Record<string, unknown> }> = [
  ...[1, 5, 100].map((n) => ({ args: ['--keep-last', `${n}`], rules: { last: n } })),
  ...[3, 30].map((n) => ({ args: ['--keep-hourly', `${n}`], rules: { hourly: n } })),
  ...[3, 10, 50].map((n) => ({ args: ['--keep-daily', `${n}`], rules: { daily: n } })),
  ...[2, 10, 60].map((n) => ({ args: ['--keep-weekly', `${n}`], rules: { weekly: n } })),
  ...[3, 12, 30].map((n) => ({ args: ['--keep-monthly', `${n}`], rules: { monthly: n } })),
  ...[1, 5].map((n) => ({ args: ['--keep-yearly', `${n}`], rules: { yearly: n } })),
  {
    args: [
      '--keep-daily',
      '7',
      '--keep-weekly',
      '5',
      '--keep-monthly',
      '12',
      '--keep-yearly',
      '10',
    ],
    rules: { daily: 7, weekly: 5, monthly: 12, yearly: 10 },
  },
  { args: ['--keep-last', '3', '--keep-daily', '3'], rules: { last: 3, daily: 3 } },
  { args: ['--keep-hourly', '5', '--keep-weekly', '3'], rules: { hourly: 5, weekly: 3 } },
  { args: ['--keep-tag', 'foo'], rules: { tags: [['foo']] } },
  { args: ['--keep-tag', 'foo,bar'], rules: { tags: [['foo', 'bar']] } },
  { args: ['--keep-tag', 'foo', '--keep-tag', 'bar'], rules: { tags: [['foo'], ['bar']] } },
  { args: ['--keep-tag', 'bar', '--keep-daily', '5'], rules: { tags: [['bar']], daily: 5 } },
  ...['2d', '1m', '1y2m3d4h', '10d12h', '3m'].map((d) => ({
    args: ['--keep-within', d],
    rules: { within: d },
  })),
  { args: ['--keep-within', '10d', '--keep-daily', '2'], rules: { within: '10d', daily: 2 } },
  { args: ['--keep-within-hourly', '2d'], rules: { withinHourly: '2d' } },
  { args: ['--keep-within-daily', '1m'], rules: { withinDaily: '1m' } },
  { args: ['--keep-within-weekly', '3m'], rules: { withinWeekly: '3m' } },
  { args: ['--keep-within-monthly', '1y'], rules: { withinMonthly: '1y' } },
  { args: ['--keep-within-yearly', '5y'], rules: { withinYearly: '5y' } },
  {
    args: ['--keep-within-daily', '7d', '--keep-within-weekly', '1m', '--keep-monthly', '4'],
    rules: { withinDaily: '7d', withinWeekly: '1m', monthly: 4 },
  },
];

const work = mkdtempSync(join(tmpdir(), 'restic-golden-'));
try {
  const env = { ...process.env, RESTIC_REPOSITORY: join(work, 'repo'), RESTIC_PASSWORD: 'golden' };
  const restic = (args: string[], zone = 'UTC') =>
    execFileSync('restic', args, { env: { ...env, TZ: zone }, encoding: 'utf8', cwd: work });
  mkdirSync(join(work, 'data'));
  writeFileSync(join(work, 'data', 'file'), 'golden');
  restic(['init', '--quiet']);
  for (const { time, zone, tags, host = 'golden' } of plannedSnapshots()) {
    const tagArgs = tags.length ? ['--tag', tags.join(',')] : [];
    restic(['backup', '--quiet', '--host', host, '--time', time, ...tagArgs, 'data'], zone);
  }
  const listed = JSON.parse(restic(['snapshots', '--json'])) as Array<{
    id: string;
    time: string;
    hostname: string;
    tags?: string[];
  }>;
  // Every snapshot has the same (temporary) path: record it as /data.
  const snapshots = listed.map(({ id, time, hostname, tags }) => ({
    id,
    time,
    hostname,
    paths: ['/data'],
    ...(tags ? { tags } : {}),
  }));
  const results = cases.map(({ args, rules }) => {
    // One entry per group (host and paths); flattened here, group by group.
    const groups = JSON.parse(restic(['forget', '--dry-run', '--json', ...args])) as Array<{
      keep: Array<{ id: string }> | null;
      remove: Array<{ id: string }> | null;
      reasons: Array<{ matches: string[]; counters: object }> | null;
    }>;
    return {
      args,
      rules,
      keep: groups.flatMap((group) => (group.keep ?? []).map((s) => s.id)),
      remove: groups.flatMap((group) => (group.remove ?? []).map((s) => s.id)),
      reasons: groups.flatMap((group) =>
        (group.reasons ?? []).map((r, i) => ({
          id: group.keep![i]!.id,
          matches: r.matches,
          counters: r.counters,
        })),
      ),
    };
  });
  const version = restic(['version']).trim();
  const out = new URL('../test/golden/restic-forget.json', import.meta.url);
  writeFileSync(
    out,
    `${JSON.stringify({ generatedBy: version, snapshots, cases: results }, null, 1)}\n`,
  );
  console.log(`wrote ${results.length} cases over ${snapshots.length} snapshots (${version})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
