import { PolicyError } from '../errors.ts';
import {
  addMonthsClamped,
  civilDate,
  dayNumber,
  daysInMonth,
  MS_PER_DAY,
  MS_PER_HOUR,
  weekday,
} from '../time/civil.ts';
import { type TimeZone, timeZone } from '../time/zone.ts';
import {
  type BackupPolicy,
  type DailyRetentionSchedule,
  type DayOfWeek,
  daysOfWeek,
  type MonthlyRetentionSchedule,
  monthsOfYear,
  type ProtectionPolicy,
  type RetentionDuration,
  type ScheduleRunFrequency,
  type Tier,
  type WeekOfMonth,
} from './model.ts';

/** A policy reduced to what expansion and tagging need; all times are wall times. */
export interface CompiledPolicy {
  zone: TimeZone;
  frequency: ScheduleRunFrequency;
  /** Weekdays (0 = Sunday) a weekly schedule runs on. */
  runDays: ReadonlySet<number> | undefined;
  /** Weekly schedules: run every N weeks, counted from the Monday of `anchorWeek`. */
  everyWeeks: number;
  anchorWeek: number;
  /** Times of day (ms) of daily and weekly runs, sorted. */
  runTimes: readonly number[];
  hourly: { startMs: number; intervalMs: number; durationMs: number } | undefined;
  tiers: readonly CompiledTier[];
}

export interface CompiledTier {
  tier: Tier;
  duration: RetentionDuration;
  /** Which runs of a matching day it keeps: these times of day, the day's last run, or all. */
  times: ReadonlySet<number> | 'last' | 'all';
  /** Whether points of the schedule day starting at `dayWall` belong to this tier. */
  onDay(dayWall: number): boolean;
}

/** Time of day (ms) of an ARM timestamp such as `2018-01-24T02:00:00Z`; the date is ignored. */
export function timeOfDayOf(timestamp: string): number {
  const [hours, minutes, seconds = '0'] = timestamp.slice(11).split(/[Z+-]/)[0]!.split(':');
  return (Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000;
}

const weekdayIndex = (day: DayOfWeek): number => daysOfWeek.indexOf(day);

/** Monday-based week index of a day number (1970-01-05 was a Monday). */
const weekIndex = (day: number): number => Math.floor((day - 4) / 7);

/** The schedule's run days and times, whichever schedule type carries them. */
export function scheduleOf(policy: ProtectionPolicy): {
  frequency: ScheduleRunFrequency;
  runDays: DayOfWeek[] | undefined;
  runTimes: string[];
  everyWeeks: number;
} {
  const schedule = policy.schedulePolicy;
  if (schedule.schedulePolicyType === 'SimpleSchedulePolicyV2') {
    const source =
      schedule.scheduleRunFrequency === 'Weekly' ? schedule.weeklySchedule : schedule.dailySchedule;
    return {
      frequency: schedule.scheduleRunFrequency,
      runDays: schedule.weeklySchedule?.scheduleRunDays ?? undefined,
      runTimes: source?.scheduleRunTimes ?? [],
      everyWeeks: 1,
    };
  }
  return {
    frequency: schedule.scheduleRunFrequency,
    runDays: schedule.scheduleRunDays ?? undefined,
    runTimes: schedule.scheduleRunTimes ?? [],
    everyWeeks: Math.max(1, schedule.scheduleWeeklyFrequency ?? 1),
  };
}

/** Longest retention that expiry arithmetic takes (the documented maximum is 99 years). */
const MAX_RETENTION_DAYS = 100_000 * 366;
const daysPerUnit = { Days: 1, Weeks: 7, Months: 31, Years: 366 } as const;

/**
 * A retention duration simulation can compute with: a whole, non-negative count short enough
 * for `Date`. Limits Azure documents are {@link validatePolicy}'s business, not this check's.
 * @throws {PolicyError} `POLICY_INVALID` naming the count.
 */
function checkedDuration(duration: RetentionDuration, tier: Tier | undefined): RetentionDuration {
  const { count, durationType } = duration;
  if (
    !Number.isInteger(count) ||
    count < 0 ||
    count * daysPerUnit[durationType] > MAX_RETENTION_DAYS
  ) {
    const field = `properties.retentionPolicy.${tier ? `${tier}Schedule.` : ''}retentionDuration.count`;
    throw new PolicyError(
      'POLICY_INVALID',
      `${field}: ${count} ${durationType.toLowerCase()} cannot be simulated`,
      {
        field,
      },
    );
  }
  return duration;
}

/** Adds a retention duration to a wall time; months and years clamp to the month's end. */
export function addDuration(wallMs: number, duration: RetentionDuration): number {
  switch (duration.durationType) {
    case 'Days':
      return wallMs + duration.count * MS_PER_DAY;
    case 'Weeks':
      return wallMs + duration.count * 7 * MS_PER_DAY;
    case 'Months':
      return addMonthsClamped(wallMs, duration.count);
    case 'Years':
      return addMonthsClamped(wallMs, duration.count * 12);
  }
}

/** Week of the month a day falls in; a day can be both `Fourth` and `Last`. */
export function weeksOfMonthOf(dayWall: number): WeekOfMonth[] {
  const { year, month, day } = civilDate(dayWall);
  const ordinal = (['First', 'Second', 'Third', 'Fourth'] as const)[Math.floor((day - 1) / 7)];
  const weeks: WeekOfMonth[] = ordinal ? [ordinal] : [];
  if (day > daysInMonth(year, month) - 7) weeks.push('Last');
  return weeks;
}

function dayOfMonthMatcher(tier: MonthlyRetentionSchedule): (dayWall: number) => boolean {
  if (tier.retentionScheduleFormatType === 'Weekly') {
    const days = new Set((tier.retentionScheduleWeekly?.daysOfTheWeek ?? []).map(weekdayIndex));
    const weeks = new Set(tier.retentionScheduleWeekly?.weeksOfTheMonth ?? []);
    return (dayWall) =>
      days.has(weekday(dayWall)) && weeksOfMonthOf(dayWall).some((week) => weeks.has(week));
  }
  const entries = tier.retentionScheduleDaily?.daysOfTheMonth ?? [];
  const dates = new Set(entries.filter((d) => !d.isLast).map((d) => d.date));
  const last = entries.some((d) => d.isLast);
  // A date past the month's end (31 in April) matches nothing that month; `isLast` is the way
  // to say "month end".
  return (dayWall) => {
    const { year, month, day } = civilDate(dayWall);
    return dates.has(day) || (last && day === daysInMonth(year, month));
  };
}

/** Compiles a policy for expansion in `zoneName` (default: the policy's own `timeZone`, else UTC). */
export function compilePolicy(policy: BackupPolicy, zoneName?: string): CompiledPolicy {
  const properties = policy.properties;
  const zone = timeZone(
    zoneName ?? properties.timeZone ?? 'UTC',
    zoneName === undefined ? 'properties.timeZone' : undefined,
  );
  const schedule = scheduleOf(properties);
  const hourlySource = properties.schedulePolicy.hourlySchedule;
  const hourly =
    schedule.frequency === 'Hourly' && hourlySource
      ? {
          startMs: timeOfDayOf(hourlySource.scheduleWindowStartTime),
          intervalMs: hourlySource.interval * MS_PER_HOUR,
          durationMs: hourlySource.scheduleWindowDuration * MS_PER_HOUR,
        }
      : undefined;
  const anchor = schedule.runTimes[0];
  return {
    zone,
    frequency: schedule.frequency,
    runDays: schedule.runDays ? new Set(schedule.runDays.map(weekdayIndex)) : undefined,
    everyWeeks: schedule.everyWeeks,
    anchorWeek: anchor ? weekIndex(dayNumber(Date.parse(`${anchor.slice(0, 10)}T00:00:00Z`))) : 0,
    runTimes: [...new Set(schedule.runTimes.map(timeOfDayOf))].sort((a, b) => a - b),
    hourly,
    tiers: compileTiers(properties, hourly !== undefined),
  };
}

function compileTiers(properties: ProtectionPolicy, hourly: boolean): CompiledTier[] {
  const retention = properties.retentionPolicy;
  if (retention.retentionPolicyType === 'SimpleRetentionPolicy') {
    return [
      { tier: 'daily', duration: retention.retentionDuration, times: 'all', onDay: () => true },
    ];
  }
  const { dailySchedule, weeklySchedule, monthlySchedule, yearlySchedule } = retention;
  const rules: Array<
    [Tier, DailyRetentionSchedule | null | undefined, (dayWall: number) => boolean]
  > = [['daily', dailySchedule, () => true]];
  if (weeklySchedule) {
    const days = new Set(weeklySchedule.daysOfTheWeek.map(weekdayIndex));
    rules.push(['weekly', weeklySchedule, (dayWall) => days.has(weekday(dayWall))]);
  }
  if (monthlySchedule) rules.push(['monthly', monthlySchedule, dayOfMonthMatcher(monthlySchedule)]);
  if (yearlySchedule) {
    const months = new Set(
      yearlySchedule.monthsOfYear.map((month) => monthsOfYear.indexOf(month) + 1),
    );
    const dayMatches = dayOfMonthMatcher(yearlySchedule);
    rules.push([
      'yearly',
      yearlySchedule,
      (dayWall) => months.has(civilDate(dayWall).month) && dayMatches(dayWall),
    ]);
  }
  const compiled: CompiledTier[] = [];
  for (const [tier, schedule, onDay] of rules) {
    if (!schedule) continue;
    const retentionTimes = schedule.retentionTimes;
    // Without retention times an hourly schedule's tiers take the day's last run (as Azure
    // reports), and a daily or weekly schedule's tiers take every run.
    const times =
      retentionTimes && retentionTimes.length > 0
        ? new Set(retentionTimes.map(timeOfDayOf))
        : hourly
          ? 'last'
          : 'all';
    compiled.push({
      tier,
      duration: checkedDuration(schedule.retentionDuration, tier),
      times,
      onDay,
    });
  }
  return compiled;
}

/** Whether the schedule runs on the day starting at wall time `dayWall`. */
export function runsOnDay(policy: CompiledPolicy, dayWall: number): boolean {
  if (policy.frequency !== 'Weekly') return true;
  if (!policy.runDays?.has(weekday(dayWall))) return false;
  const weeks = weekIndex(dayNumber(dayWall)) - policy.anchorWeek;
  return ((weeks % policy.everyWeeks) + policy.everyWeeks) % policy.everyWeeks === 0;
}

/**
 * Wall times of the runs that belong to the schedule day starting at `dayWall`. Hourly windows
 * run from the window start every `interval` hours up to and including the window's end (08:00
 * + 12 h every 4 h = 08, 12, 16, 20), but never reach the next day's first run.
 */
export function runsOfDay(policy: CompiledPolicy, dayWall: number): number[] {
  if (!runsOnDay(policy, dayWall)) return [];
  const { hourly } = policy;
  if (hourly === undefined) return policy.runTimes.map((time) => dayWall + time);
  const runs: number[] = [];
  if (hourly.intervalMs <= 0) return runs;
  for (
    let offset = 0;
    offset <= hourly.durationMs && offset < MS_PER_DAY;
    offset += hourly.intervalMs
  ) {
    runs.push(dayWall + hourly.startMs + offset);
  }
  return runs;
}
