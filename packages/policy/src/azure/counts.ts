import { MS_PER_DAY } from '../time/civil.ts';
import { scheduleOf } from './compile.ts';
import type {
  BackupPolicy,
  MonthlyRetentionSchedule,
  RetentionDuration,
  RetentionDurationType,
  Tier,
} from './model.ts';

/** Azure Backup's limit of recovery points per protected instance. */
export const MAX_RECOVERY_POINTS = 9999;

/** A point's life: created at `time`, alive until (not including) `expiry`. */
export interface PointLifetime {
  time: Date;
  expiry: Date;
}

/** One step of {@link aliveTimeline}: from `time` on, `count` points are alive. */
export interface AliveStep {
  time: Date;
  count: number;
}

/**
 * How many distinct points are alive over time, as steps at every creation and expiry. A point
 * in several tiers counts once (Azure's own "cloud as tape" arithmetic sums per tier, an upper
 * bound). Expired points are assumed gone at their expiry; Azure removes them in a clean-up job
 * up to a day later.
 */
export function aliveTimeline(points: readonly PointLifetime[]): AliveStep[] {
  const steps: AliveStep[] = [];
  sweep(points, (time, count) => steps.push({ time: new Date(time), count }));
  return steps;
}

/** Calls `visit` with the alive count after each distinct creation or expiry time, in order. */
function sweep(
  points: readonly PointLifetime[],
  visit: (time: number, count: number) => void,
): void {
  const lived = points.filter((point) => point.expiry.getTime() > point.time.getTime());
  const creations = Float64Array.from(lived, (point) => point.time.getTime()).sort();
  const expiries = Float64Array.from(lived, (point) => point.expiry.getTime()).sort();
  let count = 0;
  let c = 0;
  let e = 0;
  while (c < creations.length || e < expiries.length) {
    const next = Math.min(
      creations[c] ?? Number.POSITIVE_INFINITY,
      expiries[e] ?? Number.POSITIVE_INFINITY,
    );
    // Expiries first: a point expiring as another is created is not alive with it.
    while (e < expiries.length && expiries[e] === next) {
      count--;
      e++;
    }
    while (c < creations.length && creations[c] === next) {
      count++;
      c++;
    }
    visit(next, count);
  }
}

/** Distinct points alive at `at` (created at or before it, expiring after it). */
export function countAlive(points: readonly PointLifetime[], at: Date): number {
  const time = at.getTime();
  let count = 0;
  for (const point of points) {
    if (point.time.getTime() <= time && point.expiry.getTime() > time) count++;
  }
  return count;
}

/** The most points alive at once, and when that count is first reached. */
export function peakAlive(points: readonly PointLifetime[]): { count: number; time?: Date } {
  let count = 0;
  let at: number | undefined;
  sweep(points, (time, alive) => {
    if (alive > count) {
      count = alive;
      at = time;
    }
  });
  return at === undefined ? { count } : { count, time: new Date(at) };
}

/**
 * An upper bound on the points one tier keeps alive at once: retention length in schedule
 * periods × points the tier takes per period. Summed over tiers it is the figure Azure's docs
 * compute; the distinct count never exceeds it.
 */
export function tierPointBounds(policy: BackupPolicy): Partial<Record<Tier, number>> {
  const properties = policy.properties;
  const schedule = scheduleOf(properties);
  const hourly = properties.schedulePolicy.hourlySchedule;
  const runsPerDay =
    schedule.frequency === 'Hourly' && hourly
      ? Math.floor(Math.min(hourly.scheduleWindowDuration, 23) / Math.max(1, hourly.interval)) + 1
      : Math.max(1, new Set(schedule.runTimes.map((t) => t.slice(11, 19))).size);
  const retention = properties.retentionPolicy;
  const perDay = (times: string[] | null | undefined) =>
    times && times.length > 0
      ? new Set(times.map((t) => t.slice(11, 19))).size
      : schedule.frequency === 'Hourly'
        ? 1
        : runsPerDay;
  const runDaysPerWeek = schedule.frequency === 'Weekly' ? new Set(schedule.runDays ?? []).size : 7;
  if (retention.retentionPolicyType === 'SimpleRetentionPolicy') {
    return { daily: periods(retention.retentionDuration, 'Days') * runsPerDay };
  }
  const bounds: Partial<Record<Tier, number>> = {};
  const { dailySchedule, weeklySchedule, monthlySchedule, yearlySchedule } = retention;
  if (dailySchedule) {
    bounds.daily =
      Math.ceil((periods(dailySchedule.retentionDuration, 'Days') * runDaysPerWeek) / 7) *
      perDay(dailySchedule.retentionTimes);
  }
  if (weeklySchedule) {
    bounds.weekly =
      periods(weeklySchedule.retentionDuration, 'Weeks') *
      new Set(weeklySchedule.daysOfTheWeek).size *
      perDay(weeklySchedule.retentionTimes);
  }
  // "First Monday" drifts within the month, so a weekly-format rule can hold one period more.
  const drift = (tier: MonthlyRetentionSchedule) =>
    tier.retentionScheduleFormatType === 'Weekly' ? 1 : 0;
  if (monthlySchedule) {
    bounds.monthly =
      (periods(monthlySchedule.retentionDuration, 'Months') + drift(monthlySchedule)) *
      daysPerMonth(monthlySchedule) *
      perDay(monthlySchedule.retentionTimes);
  }
  if (yearlySchedule) {
    bounds.yearly =
      (periods(yearlySchedule.retentionDuration, 'Years') + drift(yearlySchedule)) *
      new Set(yearlySchedule.monthsOfYear).size *
      daysPerMonth(yearlySchedule) *
      perDay(yearlySchedule.retentionTimes);
  }
  return bounds;
}

/** Most days a monthly rule can match in one month. */
function daysPerMonth(tier: MonthlyRetentionSchedule): number {
  if (tier.retentionScheduleFormatType === 'Weekly') {
    const weekly = tier.retentionScheduleWeekly;
    return new Set(weekly?.daysOfTheWeek).size * new Set(weekly?.weeksOfTheMonth).size;
  }
  const days = tier.retentionScheduleDaily?.daysOfTheMonth ?? [];
  return new Set(days.map((d) => (d.isLast ? 'last' : d.date))).size;
}

const shortestDays = { Days: 1, Weeks: 7, Months: 28, Years: 365 } as const;
const longestDays = { Days: 1, Weeks: 7, Months: 31, Years: 366 } as const;

/** How many `unit` periods a retention spans, rounded up when the units differ. */
function periods(duration: RetentionDuration, unit: RetentionDurationType): number {
  if (duration.durationType === unit) return duration.count;
  return Math.ceil((duration.count * longestDays[duration.durationType]) / shortestDays[unit]);
}

export interface StorageOptions {
  /** Size of one full copy of the protected data, in bytes. */
  fullSizeBytes: number;
  /** Fraction of the data that changes per day, e.g. `0.02` for 2 %. */
  dailyChangeRate: number;
  /** Logical bytes per stored byte (2 = data halves in size); default 1. */
  compressionRatio?: number;
}

/** Projected vault storage at one moment. */
export interface StorageSample {
  time: Date;
  points: number;
  bytes: number;
}

/**
 * Projects the storage the alive points take at each of the `at` times: the oldest alive point
 * holds a full copy, each later one the data changed since the point before it (change rate ×
 * days between them, at most a full copy), all divided by the compression ratio. It is an upper
 * bound: data rewritten several times between two points is counted each time.
 * @throws {RangeError} On negative sizes or rates, or a compression ratio below 1.
 */
export function projectStorage(
  points: readonly PointLifetime[],
  at: readonly Date[],
  options: StorageOptions,
): StorageSample[] {
  const { fullSizeBytes, dailyChangeRate, compressionRatio = 1 } = options;
  if (!(fullSizeBytes >= 0) || !Number.isFinite(fullSizeBytes))
    throw new RangeError('fullSizeBytes must be a non-negative number');
  if (!(dailyChangeRate >= 0) || !Number.isFinite(dailyChangeRate))
    throw new RangeError('dailyChangeRate must be a non-negative number');
  if (!(compressionRatio >= 1) || !Number.isFinite(compressionRatio))
    throw new RangeError('compressionRatio must be at least 1');
  const created = points.map((p) => p.time.getTime());
  const order = created.map((_, i) => i).sort((a, b) => created[a]! - created[b]!);
  return at.map((date) => {
    const time = date.getTime();
    let count = 0;
    let logical = 0;
    let previous: number | undefined;
    for (const index of order) {
      const point = points[index]!;
      const creation = created[index]!;
      if (creation > time) break;
      if (point.expiry.getTime() <= time) continue;
      count++;
      logical +=
        previous === undefined
          ? fullSizeBytes
          : Math.min(
              fullSizeBytes,
              (fullSizeBytes * dailyChangeRate * (creation - previous)) / MS_PER_DAY,
            );
      previous = creation;
    }
    return { time: date, points: count, bytes: Math.round(logical / compressionRatio) };
  });
}
