import { dayNumber, MS_PER_DAY, timeOfDay } from '../time/civil.ts';
import {
  addDuration,
  type CompiledPolicy,
  type CompiledTier,
  compilePolicy,
  runsOfDay,
} from './compile.ts';
import type { BackupPolicy, Tier } from './model.ts';

/** A time range; `from` is included, `to` is not. */
export interface TimeRange {
  from: Date;
  to: Date;
}

export interface ExpandOptions extends TimeRange {
  /**
   * Time zone to read the schedule in (IANA or Windows name); default the policy's `timeZone`,
   * else UTC. For MARS and DPM, whose policies carry no zone, pass the protected server's zone.
   */
  timeZone?: string;
}

/** A recovery point as a policy creates it. */
export interface RecoveryPoint {
  /** When the backup runs. */
  time: Date;
  /** Every tier whose rule the point matches, finest first. */
  tags: Tier[];
  /**
   * When the point expires: the latest expiry over its tiers. Azure documents one expiry and one
   * governing rule per point but not how tiers combine; "longest retention wins" is this
   * library's assumption (Veeam documents the same for its GFS flags).
   */
  expiry: Date;
  /** The tier that sets `expiry` (the coarser one on a tie), like Azure's `ruleName`. */
  rule: Tier;
}

/**
 * Every scheduled run in the range, in order, whether or not a retention tier keeps it. Each
 * run is a wall-clock time in the zone: across daylight-saving changes runs keep their local
 * time, a run in a skipped hour moves past the gap, and a run in a repeated hour runs once, at
 * the earlier instant.
 * @throws {RangeError} When the range is invalid. {@link PolicyError} `UNKNOWN_TIME_ZONE`.
 */
export function expandSchedule(policy: BackupPolicy, options: ExpandOptions): Generator<Date> {
  // Check eagerly, so bad input throws here rather than at the first iteration.
  const days = scheduleDays(compilePolicy(policy, options.timeZone), checkedRange(options));
  return (function* () {
    for (const day of days) for (const instant of day.instants) yield new Date(instant);
  })();
}

/** Longest range simulated at once (200 years): bounds the work and memory a call can take. */
const MAX_RANGE_DAYS = 200 * 366;

/** The range as epoch milliseconds, checked. */
function checkedRange({ from, to }: TimeRange): { start: number; end: number } {
  const start = checkedTime(from, 'from');
  const end = checkedTime(to, 'to');
  if (end < start) throw new RangeError('"to" must not be before "from"');
  if (end - start > MAX_RANGE_DAYS * MS_PER_DAY)
    throw new RangeError(`ranges longer than ${MAX_RANGE_DAYS / 366} years are not supported`);
  return { start, end };
}

/** The runs of one schedule day that fall in the range. Reused from day to day. */
interface DayRuns {
  instants: number[];
  walls: number[];
  /** Wall time of the day's last scheduled run (in range or not): hourly tiers keep it. */
  lastWall: number;
  /** Tiers whose day rule matches this day. */
  tiers: readonly CompiledTier[];
}

function* scheduleDays(
  compiled: CompiledPolicy,
  { start, end }: { start: number; end: number },
): Generator<DayRuns> {
  const { zone } = compiled;
  const batch: DayRuns = { instants: [], walls: [], lastWall: 0, tiers: [] };
  // Hourly windows may cross midnight, so the day before `from` can still have runs in range.
  const lastDay = dayNumber(zone.toWall(end)) + 1;
  let previous = Number.NEGATIVE_INFINITY;
  for (let day = dayNumber(zone.toWall(start)) - 1; day <= lastDay; day++) {
    const dayWall = day * MS_PER_DAY;
    const runs = runsOfDay(compiled, dayWall);
    if (runs.length === 0) continue;
    batch.instants.length = 0;
    batch.walls.length = 0;
    for (const wall of runs) {
      const instant = zone.toInstant(wall);
      // A run moved out of a skipped hour can land on the next run: it runs once.
      if (instant <= previous || instant < start || instant >= end) continue;
      previous = instant;
      batch.instants.push(instant);
      batch.walls.push(wall);
    }
    if (batch.instants.length === 0) continue;
    batch.lastWall = runs[runs.length - 1]!;
    batch.tiers = compiled.tiers.filter((tier) => tier.onDay(dayWall));
    yield batch;
  }
}

function checkedTime(date: Date, name: string): number {
  const time = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(time)) throw new RangeError(`"${name}" must be a valid Date`);
  return time;
}

/**
 * The recovery points a policy creates in a range, with their tiers and expiry. Runs that no
 * tier keeps create no point.
 * @example
 * ```ts
 * const points = simulateRecoveryPoints(policy, {
 *   from: new Date('2026-01-01T00:00:00Z'),
 *   to: new Date('2027-01-01T00:00:00Z'),
 * });
 * ```
 */
export function simulateRecoveryPoints(
  policy: BackupPolicy,
  options: ExpandOptions,
): RecoveryPoint[] {
  const compiled = compilePolicy(policy, options.timeZone);
  const range = checkedRange(options);
  const points: RecoveryPoint[] = [];
  for (const day of scheduleDays(compiled, range)) {
    for (let i = 0; i < day.instants.length; i++) {
      const wall = day.walls[i]!;
      const time = timeOfDay(wall);
      const tags: Tier[] = [];
      let expiry = Number.NEGATIVE_INFINITY;
      let rule: Tier | undefined;
      for (const tier of day.tiers) {
        const kept =
          tier.times === 'all' ||
          (tier.times === 'last' ? wall === day.lastWall : tier.times.has(time));
        if (!kept) continue;
        tags.push(tier.tier);
        const tierExpiry = compiled.zone.toInstant(addDuration(wall, tier.duration));
        // Tiers come finest first, so on a tie the coarser one becomes the rule.
        if (tierExpiry >= expiry) {
          expiry = tierExpiry;
          rule = tier.tier;
        }
      }
      if (rule === undefined) continue;
      points.push({ time: new Date(day.instants[i]!), tags, expiry: new Date(expiry), rule });
    }
  }
  return points;
}
