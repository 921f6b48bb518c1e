/**
 * Regenerates test/golden/borg-prune.json with the borg on PATH: creates archives at chosen UTC
 * times in a temporary repository and records what `borg prune --dry-run --list` keeps (and by
 * which rule) for each rule set, read in two time zones (borg uses the pruning host's zone).
 *
 *   node packages/policy/scripts/borg-golden.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** UTC times: daily through 2015 with gaps, an hourly cluster, ISO week and DST edges. */
function archiveTimes(): string[] {
  const times: string[] = [];
  for (let day = 0; day < 365; day += day < 300 ? 9 : 1) {
    if (day === 352) continue; // like borg's example, a missing day in December
    times.push(
      new Date(Date.UTC(2015, 0, 1, 3, 0, 0) + day * 86_400_000).toISOString().slice(0, 19),
    );
  }
  for (let hour = 0; hour < 6; hour++)
    times.push(`2016-01-02T${String(hour * 4).padStart(2, '0')}:30:00`);
  times.push(
    '2016-01-03T23:30:00',
    '2016-01-04T00:30:00',
    '2016-03-27T00:30:00',
    '2016-03-27T01:30:00',
  );
  return times;
}

const ruleSets: Array<{ args: string[]; rules: Record<string, number> }> = [
  {
    args: ['--keep-daily', '14', '--keep-monthly', '6', '--keep-yearly', '1'],
    rules: { daily: 14, monthly: 6, yearly: 1 },
  },
  { args: ['--keep-last', '3'], rules: { last: 3 } },
  { args: ['--keep-hourly', '5'], rules: { hourly: 5 } },
  { args: ['--keep-daily', '7', '--keep-weekly', '4'], rules: { daily: 7, weekly: 4 } },
  { args: ['--keep-weekly', '8', '--keep-monthly', '3'], rules: { weekly: 8, monthly: 3 } },
  { args: ['--keep-monthly', '30'], rules: { monthly: 30 } },
  { args: ['--keep-yearly', '3'], rules: { yearly: 3 } },
  {
    args: ['--keep-last', '2', '--keep-hourly', '3', '--keep-daily', '3'],
    rules: { last: 2, hourly: 3, daily: 3 },
  },
  { args: ['--keep-daily', '-1'], rules: { daily: -1 } },
  { args: ['--keep-minutely', '4', '--keep-weekly', '2'], rules: { minutely: 4, weekly: 2 } },
];
const zones = ['UTC', 'America/New_York', 'Pacific/Auckland'];

const work = mkdtempSync(join(tmpdir(), 'borg-golden-'));
try {
  const repo = join(work, 'repo');
  const env = (zone: string) => ({
    ...process.env,
    TZ: zone,
    BORG_PASSPHRASE: '',
    BORG_BASE_DIR: work,
  });
  const borg = (args: string[]) =>
    execFileSync('borg', args, {
      env: env('UTC'),
      encoding: 'utf8',
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  mkdirSync(join(work, 'data'));
  writeFileSync(join(work, 'data', 'file'), 'golden');
  borg(['init', '--encryption=none', repo]);
  const archives = archiveTimes().map((time, index) => {
    const id = `a${String(index).padStart(3, '0')}`;
    borg(['create', '--timestamp', time, `${repo}::${id}`, 'data']);
    return { id, time: `${time}Z` };
  });
  // `--list` writes to stderr, which spawnSync captures.
  const results = zones.flatMap((zone) =>
    ruleSets.map(({ args, rules }) => {
      const run = spawnSync('borg', ['prune', '--dry-run', '--list', ...args, repo], {
        env: env(zone),
        cwd: work,
        encoding: 'utf8',
      });
      if (run.status !== 0) throw new Error(`borg prune failed: ${run.stderr}`);
      const keep: Array<{ id: string; rule: string; number: number }> = [];
      for (const line of run.stderr.split('\n')) {
        const match = /^Keeping archive \(rule: (\S+) #(\d+)\):\s+(\S+)/.exec(line);
        if (match) keep.push({ id: match[3]!, rule: match[1]!, number: Number(match[2]) });
      }
      return { zone, args, rules, keep };
    }),
  );
  const version = borg(['--version']).trim();
  const out = new URL('../test/golden/borg-prune.json', import.meta.url);
  writeFileSync(
    out,
    `${JSON.stringify({ generatedBy: version, archives, cases: results }, null, 1)}\n`,
  );
  console.log(`wrote ${results.length} cases over ${archives.length} archives (${version})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
