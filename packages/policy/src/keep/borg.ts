import { civilDate, isoWeek, MS_PER_HOUR } from '../time/civil.ts';
import { timeZone } from '../time/zone.ts';
import { parseSnapshotTime } from './snapshot-time.ts';

/**
 * An archive as borg's prune reads it: a name and its creation time, RFC 3339 with an offset
 * (borg stores UTC; a time without an offset would depend on the reader's zone, so it is refused).
 */
export interface Archive {
  id: string;
  time: string;
}

/**
 * borg 1.2/1.4 `prune` rules. Counts take `-1` for unlimited; `last` is borg's `--keep-last`
 * (= `--keep-secondly`); `within` is `<int><H|d|w|m|y>` with 1m = 31 days and 1y = 365 days.
 */
export interface BorgKeepRules {
  within?: string;
  last?: number;
  minutely?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

export interface BorgKeepOptions {
  /** Zone whose calendar defines hours, days, weeks…: borg uses the pruning host's; default UTC. */
  timeZone?: string;
  /** "Now" for `within`; default the clock. */
  now?: Date;
}

/** Why borg keeps an archive: `daily #3`, `yearly[oldest] #1`, `within #2`. */
export interface BorgKeepReason {
  id: string;
  time: string;
  rule: string;
  /** The archive's number within its rule, as `borg prune --list` prints it. */
  number: number;
}

export interface BorgKeepResult<A extends Archive = Archive> {
  /** Newest first. */
  keep: A[];
  /** Newest first. */
  remove: A[];
  /** One per kept archive, in the order of `keep`. */
  reasons: BorgKeepReason[];
}

type RuleName = Exclude<keyof BorgKeepRules, 'within'>;

const hoursPerUnit = { H: 1, d: 24, w: 168, m: 744, y: 8760 } as const;

/**
 * Parses borg's `--keep-within` interval (`12H`, `7d`, `4w`, `1m` = 31 d, `1y` = 365 d) to hours.
 * @throws {RangeError} When it is not a positive number followed by one of H, d, w, m, y.
 */
export function parseBorgInterval(text: string): number {
  const match = /^(\d+)([Hdwmy])$/.exec(text.trim());
  if (match === null || Number(match[1]) <= 0)
    throw new RangeError(
      `borg keep-within must be a positive number followed by H, d, w, m or y (e.g. "7d"), got "${text}"`,
    );
  return Number(match[1]) * hoursPerUnit[match[2] as keyof typeof hoursPerUnit];
}

/**
 * Decides which archives borg 1.2/1.4 `prune` keeps. Unlike restic, rules are additive: they
 * run from `last` (secondly) to `yearly`, and an archive kept by an earlier rule (or by
 * `within`) does not count towards a later one, though its period is used up. When a rule
 * cannot fill its count, the oldest archive is kept for it (`rule[oldest]`).
 * @throws {RangeError} On a count below -1, a bad interval, or no rule at all.
 * @throws {PolicyError} `SNAPSHOTS_MALFORMED` on a bad time.
 */
export function applyBorgKeepRules<A extends Archive>(
  archives: readonly A[],
  rules: BorgKeepRules,
  options: BorgKeepOptions = {},
): BorgKeepResult<A> {
  const zone = timeZone(options.timeZone ?? 'UTC');
  const periodKeys: Record<RuleName, (wall: number) => number> = {
    last: (wall) => Math.floor(wall / 1000),
    minutely: (wall) => Math.floor(wall / 60_000),
    hourly: (wall) => Math.floor(wall / MS_PER_HOUR),
    daily: (wall) => Math.floor(wall / 86_400_000),
    weekly: (wall) => {
      const { year, week } = isoWeek(wall);
      return year * 100 + week;
    },
    monthly: (wall) => {
      const { year, month } = civilDate(wall);
      return year * 100 + month;
    },
    yearly: (wall) => civilDate(wall).year,
  };
  const names = Object.keys(periodKeys) as RuleName[];
  for (const name of names) {
    const count = rules[name];
    if (count !== undefined && (!Number.isInteger(count) || count < -1))
      throw new RangeError(
        `borg keep ${name} must be a whole number ≥ 0, or -1 for unlimited, got ${count}`,
      );
  }
  if (rules.within === undefined && names.every((name) => !rules[name]))
    throw new RangeError('no keep rule given: borg refuses to prune without one');
  const list = archives
    .map((archive, index) => ({
      archive,
      instant: parseSnapshotTime(archive.time, `[${index}].time`).instantMs,
    }))
    .sort((a, b) => b.instant - a.instant);

  const keptBecause = new Map<A, { rule: string; number: number }>();
  if (rules.within !== undefined) {
    const start =
      (options.now?.getTime() ?? Date.now()) - parseBorgInterval(rules.within) * MS_PER_HOUR;
    let number = 0;
    for (const { archive, instant } of list)
      if (instant > start) keptBecause.set(archive, { rule: 'within', number: ++number });
  }
  for (const name of names) {
    const count = rules[name] ?? 0;
    if (count === 0) continue;
    const rule = name === 'last' ? 'secondly' : name;
    let kept = 0;
    let lastPeriod: number | undefined;
    let oldest: A | undefined;
    for (const { archive, instant } of list) {
      oldest = archive;
      const period = periodKeys[name](zone.toWall(instant));
      if (period === lastPeriod) continue;
      lastPeriod = period;
      if (keptBecause.has(archive)) continue;
      keptBecause.set(archive, { rule, number: ++kept });
      if (kept === count) break;
    }
    if (oldest !== undefined && count > 0 && kept < count && !keptBecause.has(oldest))
      keptBecause.set(oldest, { rule: `${rule}[oldest]`, number: ++kept });
  }
  const result: BorgKeepResult<A> = { keep: [], remove: [], reasons: [] };
  for (const { archive } of list) {
    const reason = keptBecause.get(archive);
    if (reason === undefined) {
      result.remove.push(archive);
    } else {
      result.keep.push(archive);
      result.reasons.push({ id: archive.id, time: archive.time, ...reason });
    }
  }
  return result;
}
