import { PolicyError } from '../errors.ts';
import { civilDate, isoWeek, MS_PER_HOUR } from '../time/civil.ts';
import {
  compareNewestFirst,
  parseSnapshotTime,
  type Snapshot,
  type SnapshotTime,
} from './snapshot-time.ts';

/** A count rule's value: how many periods to keep, or `-1` for all of them. */
export type KeepCount = number;

/**
 * restic's `forget` keep rules. Counts take `-1` for "unlimited"; durations are restic's
 * `NyNmNdNh` (e.g. `1y6m`, `7d12h`); `tags` lists tag sets, a snapshot matching every tag of any
 * one set is kept (`['']` matches untagged snapshots).
 */
export interface ResticKeepRules {
  last?: KeepCount;
  hourly?: KeepCount;
  daily?: KeepCount;
  weekly?: KeepCount;
  monthly?: KeepCount;
  yearly?: KeepCount;
  within?: string;
  withinHourly?: string;
  withinDaily?: string;
  withinWeekly?: string;
  withinMonthly?: string;
  withinYearly?: string;
  tags?: readonly (readonly string[])[];
}

export interface ResticKeepOptions {
  /** "Now", to tell future snapshots (never removed by duration rules); default the clock. */
  now?: Date;
  /**
   * Keep the oldest snapshot when a count rule has periods left ("oldest daily snapshot"), as
   * restic does since 0.16.0; default true. `false` gives restic 0.14/0.15 results.
   */
  keepOldest?: boolean;
  /** Allow a result that removes every snapshot of a group (restic's `--unsafe-allow-remove-all`). */
  allowRemoveAll?: boolean;
  /**
   * Apply the rules separately to each group of snapshots with the same host, paths and/or
   * tags, as restic's `--group-by`; default `['host', 'paths']` as restic. Snapshots without
   * `hostname` or `paths` form one group.
   */
  groupBy?: readonly SnapshotGroupKey[];
}

export type SnapshotGroupKey = 'host' | 'paths' | 'tags';

type CounterName = 'last' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

/** Why a snapshot is kept, in restic's words, and the counts left after it (0s omitted). */
export interface KeepReason {
  id: string;
  time: string;
  matches: string[];
  counters: Partial<Record<CounterName, number>>;
}

export interface KeepResult<S extends Snapshot = Snapshot> {
  /** Newest first. */
  keep: S[];
  /** Newest first. */
  remove: S[];
  /** One per kept snapshot, in the order of `keep`. */
  reasons: KeepReason[];
}

/** A restic keep duration: `NyNmNdNh`. */
export interface KeepDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

/**
 * Parses a restic duration such as `1y2m3d4h` (units y, m, d, h; any order; the last of a repeated
 * unit wins, as in restic).
 * @throws {RangeError} On an empty string, a number without a unit or an unknown unit.
 */
export function parseKeepDuration(text: string): KeepDuration {
  const duration: KeepDuration = { years: 0, months: 0, days: 0, hours: 0 };
  const units = { y: 'years', m: 'months', d: 'days', h: 'hours' } as const;
  let rest = text.trim();
  if (rest === '') throw new RangeError('a keep duration must not be empty (e.g. "7d" or "1y6m")');
  while (rest !== '') {
    const match = /^(-?\d+)(.?)/.exec(rest);
    if (match === null) throw new RangeError(`no number found in keep duration "${text}"`);
    const [whole, digits, unit] = match;
    if (unit === '' || unit === undefined)
      throw new RangeError(`no unit found after number ${digits} in keep duration "${text}"`);
    const key = units[unit as keyof typeof units];
    if (key === undefined)
      throw new RangeError(
        `invalid unit "${unit}" in keep duration "${text}": use y, m, d or h (no w)`,
      );
    duration[key] = Number(digits);
    rest = rest.slice(whole!.length);
  }
  return duration;
}

/** restic's rendering of a duration: `1y2m` (zero parts left out). */
export function formatKeepDuration(d: KeepDuration): string {
  return [
    d.years ? `${d.years}y` : '',
    d.months ? `${d.months}m` : '',
    d.days ? `${d.days}d` : '',
    d.hours ? `${d.hours}h` : '',
  ].join('');
}

const isZero = (d: KeepDuration) => !d.years && !d.months && !d.days && !d.hours;

/** Calendar bucket keys in the snapshot's own offset; `last` makes every snapshot its own. */
const bucketKeys: Record<CounterName, (t: SnapshotTime, index: number) => number> = {
  last: (_, index) => index,
  hourly: (t) => Math.floor(t.wallMs / MS_PER_HOUR),
  daily: (t) => Math.floor(t.wallMs / 86_400_000),
  weekly: (t) => {
    const { year, week } = isoWeek(t.wallMs);
    return year * 100 + week;
  },
  monthly: (t) => {
    const { year, month } = civilDate(t.wallMs);
    return year * 100 + month;
  },
  yearly: (t) => civilDate(t.wallMs).year,
};

const counterNames: readonly CounterName[] = [
  'last',
  'hourly',
  'daily',
  'weekly',
  'monthly',
  'yearly',
];
const withinNames = [
  ['withinHourly', 'hourly'],
  ['withinDaily', 'daily'],
  ['withinWeekly', 'weekly'],
  ['withinMonthly', 'monthly'],
  ['withinYearly', 'yearly'],
] as const;

/**
 * Decides which snapshots restic's `forget` keeps, with restic's reasons: the same results as
 * restic on the same snapshots (a single group; group by host and paths first if needed).
 * Snapshots are ordered newest first with a stable sort, so snapshots with identical times keep
 * their input order. Rules are ORed and their counts overlap: one snapshot uses up one period of
 * every rule it is newest in.
 * @throws {RangeError} On a count below -1, a bad duration, or no rule at all.
 * @throws {PolicyError} `SNAPSHOTS_MALFORMED` on a bad time; `KEEP_REMOVES_ALL` when every
 * snapshot would go and `allowRemoveAll` is not set.
 */
export function applyResticKeepRules<S extends Snapshot>(
  snapshots: readonly S[],
  rules: ResticKeepRules,
  options: ResticKeepOptions = {},
): KeepResult<S> {
  const policy = checkedRules(rules);
  const parsed = snapshots.map((snapshot, index) => ({
    snapshot,
    time: parseSnapshotTime(snapshot.time, `[${index}].time`),
  }));
  const groupBy = options.groupBy ?? ['host', 'paths'];
  const groups = new Map<string, typeof parsed>();
  for (const entry of parsed) {
    const key = groupKey(entry.snapshot, groupBy);
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  const kept: Array<{ snapshot: S; time: SnapshotTime; reason: KeepReason }> = [];
  const removed: Array<{ snapshot: S; time: SnapshotTime }> = [];
  for (const [key, group] of groups) {
    const before = kept.length;
    applyToGroup(group, policy, options, kept, removed);
    if (kept.length === before && !options.allowRemoveAll) {
      const which = groups.size > 1 ? ` of group ${key}` : '';
      throw new PolicyError(
        'KEEP_REMOVES_ALL',
        `these keep rules would remove all ${group.length} snapshots${which}; check them (a mistyped tag?) or allow it explicitly`,
      );
    }
  }
  // One group is already newest first; several merge by time, ties in group order.
  if (groups.size > 1) {
    kept.sort((a, b) => compareNewestFirst(a.time, b.time));
    removed.sort((a, b) => compareNewestFirst(a.time, b.time));
  }
  return {
    keep: kept.map((entry) => entry.snapshot),
    remove: removed.map((entry) => entry.snapshot),
    reasons: kept.map((entry) => entry.reason),
  };
}

interface CheckedRules {
  counts: number[];
  within: KeepDuration | undefined;
  withinDurations: Array<{ name: Exclude<CounterName, 'last'>; duration: KeepDuration }>;
  tagSets: readonly (readonly string[])[];
}

function checkedRules(rules: ResticKeepRules): CheckedRules {
  const counts = counterNames.map((name) => checkCount(rules[name], name));
  const parsedWithin = rules.within === undefined ? undefined : parseKeepDuration(rules.within);
  const within = parsedWithin && !isZero(parsedWithin) ? parsedWithin : undefined;
  const withinDurations = withinNames
    .filter(([key]) => rules[key] !== undefined)
    .map(([key, name]) => ({ name, duration: parseKeepDuration(rules[key]!) }))
    .filter((rule) => !isZero(rule.duration));
  const tagSets = rules.tags ?? [];
  if (
    counts.every((count) => count === 0) &&
    within === undefined &&
    withinDurations.length === 0 &&
    tagSets.length === 0
  ) {
    throw new RangeError('no keep rule given: restic would refuse to forget anything');
  }
  return { counts, within, withinDurations, tagSets };
}

/** restic's grouping key: host, sorted paths and/or sorted tags. */
function groupKey(snapshot: Snapshot, groupBy: readonly SnapshotGroupKey[]): string {
  const parts: Record<string, unknown> = {};
  if (groupBy.includes('host')) parts.host = snapshot.hostname ?? '';
  if (groupBy.includes('paths')) parts.paths = [...(snapshot.paths ?? [])].sort();
  if (groupBy.includes('tags')) parts.tags = [...(snapshot.tags ?? [])].sort();
  return JSON.stringify(parts);
}

/** restic's `ApplyPolicy` on one group, appending to `kept` and `removed`. */
function applyToGroup<S extends Snapshot>(
  group: Array<{ snapshot: S; time: SnapshotTime }>,
  { counts, within, withinDurations, tagSets }: CheckedRules,
  options: ResticKeepOptions,
  kept: Array<{ snapshot: S; time: SnapshotTime; reason: KeepReason }>,
  removed: Array<{ snapshot: S; time: SnapshotTime }>,
): void {
  const keepOldest = options.keepOldest ?? true;
  const now = options.now?.getTime() ?? Date.now();
  const list = [...group].sort((a, b) => compareNewestFirst(a.time, b.time));
  const latest = list.find((entry) => entry.time.instantMs < now)?.time;
  const withinStart = within === undefined ? undefined : windowStart(latest, within);
  const withinRules = withinDurations.map((rule) => ({
    ...rule,
    start: windowStart(latest, rule.duration),
    last: Number.NaN,
  }));
  const buckets = counterNames.map((name, i) => ({ name, count: counts[i]!, last: Number.NaN }));
  const oldest = list.length - 1;
  list.forEach(({ snapshot, time }, index) => {
    const matches: string[] = [];
    const tags = snapshot.tags ?? [];
    for (const set of tagSets) {
      if (hasTags(tags, set)) matches.push(`has tags [${set.join(', ')}]`);
    }
    if (withinStart !== undefined && isAfter(time, withinStart))
      matches.push(`within ${formatKeepDuration(within!)}`);
    const isOldest = index === oldest && keepOldest;
    for (const bucket of buckets) {
      if (bucket.count === 0) continue;
      const key = bucketKeys[bucket.name](time, index);
      if (key !== bucket.last || isOldest) {
        const reason = `${bucket.name} snapshot`;
        matches.push(key === bucket.last ? `oldest ${reason}` : reason);
        bucket.last = key;
        if (bucket.count > 0) bucket.count--;
      }
    }
    for (const rule of withinRules) {
      if (!isAfter(time, rule.start)) continue;
      const key = bucketKeys[rule.name](time, index);
      if (key !== rule.last || isOldest) {
        const reason = `${rule.name} within`;
        matches.push(
          `${key === rule.last ? `oldest ${reason}` : reason} ${formatKeepDuration(rule.duration)}`,
        );
        rule.last = key;
      }
    }
    if (matches.length === 0) {
      removed.push({ snapshot, time });
      return;
    }
    const counters: KeepReason['counters'] = {};
    for (const bucket of buckets) if (bucket.count !== 0) counters[bucket.name] = bucket.count;
    kept.push({
      snapshot,
      time,
      reason: { id: snapshot.id, time: snapshot.time, matches, counters },
    });
  });
}

/** restic's `HasTags`: all tags of the set, where an empty tag first matches untagged snapshots. */
function hasTags(tags: readonly string[], set: readonly string[]): boolean {
  for (const tag of set) {
    if (tag === '' && tags.length === 0) return true;
    if (!tags.includes(tag)) return false;
  }
  return true;
}

function checkCount(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < -1)
    throw new RangeError(
      `keep ${name} must be a whole number ≥ 0, or -1 for unlimited, got ${value}`,
    );
  return value;
}

interface Threshold {
  instantMs: number;
  subMsNanos: number;
}

/**
 * The start of a `within` window: the newest non-future snapshot minus the duration, in that
 * snapshot's offset with Go's `AddDate` normalisation (Mar 31 − 1m = "Feb 31" = Mar 2 or 3).
 */
function windowStart(latest: SnapshotTime | undefined, d: KeepDuration): Threshold {
  if (latest === undefined) return { instantMs: Number.NEGATIVE_INFINITY, subMsNanos: 0 };
  const wall = new Date(latest.wallMs);
  const shifted =
    Date.UTC(
      wall.getUTCFullYear() - d.years,
      wall.getUTCMonth() - d.months,
      wall.getUTCDate() - d.days,
      wall.getUTCHours(),
      wall.getUTCMinutes(),
      wall.getUTCSeconds(),
      wall.getUTCMilliseconds(),
    ) -
    d.hours * MS_PER_HOUR;
  return { instantMs: shifted - latest.offsetMinutes * 60_000, subMsNanos: latest.subMsNanos };
}

const isAfter = (t: SnapshotTime, start: Threshold) =>
  t.instantMs > start.instantMs ||
  (t.instantMs === start.instantMs && t.subMsNanos > start.subMsNanos);
