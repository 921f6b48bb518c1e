import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { memoryIo } from '../test-io.ts';

let dir: string;

const time = (hhmm: string) => `2018-01-24T${hhmm}:00Z`;
const marsPolicy = (dailyDays: number, extraTimes: string[] = []) => ({
  properties: {
    backupManagementType: 'MAB',
    schedulePolicy: {
      schedulePolicyType: 'SimpleSchedulePolicy',
      scheduleRunFrequency: 'Daily',
      scheduleRunTimes: [time('22:00'), ...extraTimes.map(time)],
    },
    retentionPolicy: {
      retentionPolicyType: 'LongTermRetentionPolicy',
      dailySchedule: {
        retentionTimes: [time('22:00')],
        retentionDuration: { count: dailyDays, durationType: 'Days' },
      },
      weeklySchedule: {
        daysOfTheWeek: ['Sunday'],
        retentionTimes: [time('22:00')],
        retentionDuration: { count: 4, durationType: 'Weeks' },
      },
    },
  },
});

/** Runs a command line given as one string (no argument with spaces). */
const sh = (line: string) => run(...line.split(' '));

async function run(...argv: string[]) {
  const io = Object.assign(memoryIo(), { cwd: dir });
  const code = await runCli(argv, { io });
  return { code, out: io.out, err: io.err };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'policy-cli-'));
  writeFileSync(join(dir, 'mars.json'), JSON.stringify(marsPolicy(7)));
  writeFileSync(join(dir, 'mars-30.json'), JSON.stringify(marsPolicy(30)));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(marsPolicy(3, ['01:00', '02:00', '03:00'])));
  writeFileSync(join(dir, 'broken.json'), '{"properties": {');
  writeFileSync(
    join(dir, 'snapshots.json'),
    JSON.stringify(
      Array.from({ length: 10 }, (_, i) => ({
        id: `s${i}`,
        time: `2016-01-${String(i + 1).padStart(2, '0')}T10:00:00+01:00`,
        tags: i === 0 ? ['keep'] : [],
      })),
    ),
  );
});

describe('offline-seed policy', () => {
  it('lists its subcommands', async () => {
    const { code, out } = await sh('policy --help');
    expect(code).toBe(0);
    for (const name of ['validate', 'simulate', 'diff', 'keep', 'render'])
      expect(out).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('validate: accepts a good policy, lists every problem of a bad one and exits 1', async () => {
    expect(await sh('policy validate mars.json')).toMatchObject({
      code: 0,
      out: 'mars.json: valid\n',
    });
    const bad = await sh('policy validate bad.json');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(
      'error: properties.schedulePolicy.scheduleRunTimes: MARS allows at most 3 backups a day, got 4',
    );
    expect(bad.out).toContain('properties.retentionPolicy.dailySchedule.retentionDuration.count');
    const json = JSON.parse((await sh('policy validate bad.json --json')).out);
    expect(json.valid).toBe(false);
    expect(json.issues.length).toBeGreaterThanOrEqual(2);
  });

  it('validate: reports malformed JSON and missing files as typed errors', async () => {
    const broken = await sh('policy validate broken.json --json');
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.err).error).toMatchObject({
      name: 'PolicyError',
      code: 'POLICY_MALFORMED',
    });
    const missing = await sh('policy validate nope.json');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('ENOENT');
  });

  it('simulate: prints points with tiers and expiry, counts and a storage projection', async () => {
    const { code, out } = await sh(
      'policy simulate mars.json --from 2026-01-01 --to 2026-03-01 --full-size 100GiB --change-rate 2% --compression 2 --json',
    );
    expect(code).toBe(0);
    const data = JSON.parse(out);
    expect(data.points.length).toBe(59);
    expect(data.points[3]).toEqual({
      time: '2026-01-04T22:00:00.000Z',
      tags: ['daily', 'weekly'],
      expiry: '2026-02-01T22:00:00.000Z',
      rule: 'weekly',
    });
    expect(data.summary).toMatchObject({
      created: 59,
      peakAlive: 10,
      withinLimit: true,
      limit: 9999,
    });
    expect(data.storage.at(-1).bytes).toBeGreaterThan(50 * 2 ** 30);
    const tokyo = ['--time-zone', 'Tokyo Standard Time'];
    const human = await run(
      ...'policy simulate mars.json --from 2026-01-01 --to 2026-01-10'.split(' '),
      ...tokyo,
    );
    expect(human.out).toContain('9 recovery points');
    expect(human.out).toContain('2026-01-01T13:00:00.000Z');
  });

  it('simulate: rejects missing and bad dates and sizes as usage errors', async () => {
    expect((await sh('policy simulate mars.json --from 2026-01-01')).code).toBe(2);
    const bad = await sh('policy simulate mars.json --from soon --to 2026-01-01');
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.err).toContain('--from must be an ISO 8601 date');
    const size = await run(
      'policy',
      'simulate',
      'mars.json',
      '--from',
      '2026-01-01',
      '--to',
      '2026-02-01',
      '--full-size',
      '10 parsecs',
    );
    expect(size.code).toBe(2);
    const ratio = await sh(
      'policy simulate mars.json --from 2026-01-01 --to 2026-02-01 --full-size 1GiB --compression 0.5',
    );
    expect(ratio.code).toBe(2);
    expect(ratio.err).toContain('--compression must be a ratio of 1 or more');
  });

  it('diff: shows what a retention change does to existing points', async () => {
    const simulated = await sh(
      'policy simulate mars.json --from 2026-01-01 --to 2026-02-01 --json',
    );
    writeFileSync(join(dir, 'points.json'), simulated.out);
    const { code, out } = await sh(
      'policy diff mars.json mars-30.json --points points.json --at 2026-02-01 --json',
    );
    expect(code).toBe(0);
    const plan = JSON.parse(out);
    expect(plan.summary.extended).toBeGreaterThan(0);
    expect(plan.points.find((p: { change: string }) => p.change === 'extended').reason).toContain(
      'retention',
    );
    const longer = await sh(
      'policy simulate mars-30.json --from 2026-01-01 --to 2026-02-01 --json',
    );
    writeFileSync(join(dir, 'points-30.json'), longer.out);
    const human = await sh(
      'policy diff mars-30.json mars.json --points points-30.json --at 2026-02-01',
    );
    expect(human.out).toMatch(/^x .*pruned at next clean-up/m);
    expect(human.out).toMatch(/points alive before, \d+ after clean-up/);
    expect((await sh('policy diff mars.json mars-30.json')).code).toBe(2);
  });

  it('keep: applies restic rules with reasons, or borg rules with --borg', async () => {
    const { code, out } = await sh(
      'policy keep --snapshots snapshots.json --keep-daily 3 --keep-tag keep --json',
    );
    expect(code).toBe(0);
    const data = JSON.parse(out);
    expect(data.keep).toEqual(['s9', 's8', 's7', 's0']);
    expect(data.remove.length).toBe(6);
    expect(data.reasons.at(-1).matches).toEqual(['has tags [keep]']);
    const borg = JSON.parse(
      (await sh('policy keep --snapshots snapshots.json --keep-weekly 2 --borg --json')).out,
    );
    expect(borg.reasons.map((r: { matches: string[] }) => r.matches[0])).toEqual([
      'weekly #1',
      'weekly #2',
    ]);
    const human = await sh('policy keep --snapshots snapshots.json --keep-last unlimited');
    expect(human.out).toContain('keep 10, remove 0');
  });

  it('keep: refuses to remove everything, and bad counts and durations', async () => {
    const all = await sh('policy keep --snapshots snapshots.json --keep-tag typo');
    expect(all.code).toBe(1);
    expect(all.err).toContain('KEEP_REMOVES_ALL');
    expect((await sh('policy keep --snapshots snapshots.json --keep-daily many')).code).toBe(2);
    const within = await sh('policy keep --snapshots snapshots.json --keep-within 2w');
    expect(within.code).toBe(1);
    expect(within.err).toContain('invalid unit "w"');
    expect((await sh('policy keep --keep-daily 1')).code).toBe(2);
    const group = await sh(
      'policy keep --snapshots snapshots.json --keep-daily 1 --group-by hosts',
    );
    expect(group.code).toBe(2);
    expect(group.err).toContain('--group-by takes host, paths and tags');
    const zone = await sh('policy keep --snapshots snapshots.json --keep-daily 1 --time-zone UTC');
    expect(zone.code).toBe(2);
    expect(zone.err).toContain('--time-zone applies to --borg');
  });

  it('render: writes an SVG calendar', async () => {
    const { code, out } = await sh(
      'policy render mars.json --svg calendar.svg --from 2026-01-01 --to 2026-04-01',
    );
    expect(code).toBe(0);
    expect(out).toMatch(/^wrote calendar.svg: 90 recovery points/);
    const svg = readFileSync(join(dir, 'calendar.svg'), 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('>weekly</text>');
    expect((await sh('policy render mars.json')).code).toBe(2);
    // A target that cannot be written leaves nothing behind and says why.
    const failed = await sh('policy render mars.json --svg missing/dir/calendar.svg');
    expect(failed.code).toBe(1);
    expect(failed.err).toContain('ENOENT');
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
