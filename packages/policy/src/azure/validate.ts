import { PolicyError } from '../errors.ts';
import { resolveTimeZoneName } from '../time/zone.ts';
import { scheduleOf, timeOfDayOf } from './compile.ts';
import { MAX_RECOVERY_POINTS, tierPointBounds } from './counts.ts';
import type {
  BackupManagementType,
  BackupPolicy,
  DayOfWeek,
  MonthlyRetentionSchedule,
  ProtectionPolicy,
  RetentionDuration,
  RetentionDurationType,
  Tier,
} from './model.ts';
import { tiers } from './model.ts';

/** One problem found by {@link validatePolicy}. */
export interface PolicyIssue {
  /** `error`: Azure would reject the policy; `warning`: accepted, but likely not what was meant. */
  severity: 'error' | 'warning';
  code: 'POLICY_INVALID' | 'UNKNOWN_TIME_ZONE';
  /** Dotted path of the field, e.g. `properties.retentionPolicy.dailySchedule.retentionDuration.count`. */
  field: string;
  message: string;
}

type Range = readonly [min: number, max: number];

/** Documented limits per workload: runs a day and retention count ranges per tier. */
interface Limits {
  label: string;
  maxRunsPerDay: number;
  retention: Record<Tier, Range>;
  /** Azure Files keeps at most 200 snapshots per share. */
  maxPoints: number;
}

const vaultRetention: Record<Tier, Range> = {
  daily: [7, 9999],
  weekly: [4, 5163],
  monthly: [3, 1188],
  yearly: [1, 99],
};

const limitsByType: Record<BackupManagementType, Limits> = {
  MAB: {
    label: 'MARS',
    maxRunsPerDay: 3,
    retention: vaultRetention,
    maxPoints: MAX_RECOVERY_POINTS,
  },
  DPM: {
    label: 'DPM',
    maxRunsPerDay: 2,
    retention: vaultRetention,
    maxPoints: MAX_RECOVERY_POINTS,
  },
  AzureBackupServer: {
    label: 'MABS',
    maxRunsPerDay: 2,
    retention: vaultRetention,
    maxPoints: MAX_RECOVERY_POINTS,
  },
  AzureIaasVM: {
    label: 'Azure VM',
    maxRunsPerDay: 1,
    retention: { daily: [7, 9999], weekly: [1, 5163], monthly: [1, 1188], yearly: [1, 99] },
    maxPoints: MAX_RECOVERY_POINTS,
  },
  AzureStorage: {
    label: 'Azure Files (snapshot tier)',
    maxRunsPerDay: 1,
    retention: { daily: [1, 200], weekly: [1, 200], monthly: [1, 120], yearly: [1, 10] },
    maxPoints: 200,
  },
};

const unitOfTier: Record<Tier, RetentionDurationType> = {
  daily: 'Days',
  weekly: 'Weeks',
  monthly: 'Months',
  yearly: 'Years',
};

/**
 * Checks a policy against the documented Azure Backup rules and limits: runs a day (MARS 3,
 * DPM/MABS 2, Azure VM 1 unless hourly), hourly intervals and windows, retention ranges per
 * workload and tier, retention only on scheduled times and days, monthly and yearly days within
 * the schedule's days, the 9,999-point limit (200 snapshots for Azure Files), and the time zone.
 * Returns every issue found, errors and warnings; an empty list means the policy is valid.
 */
export function validatePolicy(policy: BackupPolicy): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const properties = policy.properties;
  const report = (severity: PolicyIssue['severity'], field: string, message: string) =>
    issues.push({ severity, code: 'POLICY_INVALID', field, message });
  const limits = effectiveLimits(properties);
  checkTimeZone(properties, issues);
  const { scheduledTimes, scheduledDays } = checkSchedule(properties, limits, report);
  checkRetention(properties, limits, scheduledTimes, scheduledDays, report);
  checkInstantRestore(properties, report);
  checkSnapshotRetention(properties, report);
  checkPointCount(policy, limits, report);
  return issues;
}

/** Azure VM snapshot ("instant restore") retention: V1 1–5 days, V2 1–30; weekly V1 needs 5. */
function checkInstantRestore(properties: ProtectionPolicy, report: Report): void {
  const days = properties.instantRpRetentionRangeInDays;
  if (days === undefined || properties.backupManagementType !== 'AzureIaasVM') return;
  const field = 'properties.instantRpRetentionRangeInDays';
  const enhanced = properties.policyType === 'V2';
  const max = enhanced ? 30 : 5;
  if (days < 1 || days > max)
    report(
      'error',
      field,
      `${enhanced ? 'Enhanced' : 'Standard'} policies keep snapshots 1 to ${max} days, got ${days}`,
    );
  else if (!enhanced && scheduleOf(properties).frequency === 'Weekly' && days !== 5)
    report('error', field, `a weekly Standard policy keeps snapshots exactly 5 days, got ${days}`);
}

/**
 * Throws on the first error {@link validatePolicy} finds.
 * @throws {PolicyError} `POLICY_INVALID` or `UNKNOWN_TIME_ZONE`, with `field` set.
 */
export function assertValidPolicy(policy: BackupPolicy): void {
  const errors = validatePolicy(policy).filter((issue) => issue.severity === 'error');
  const first = errors[0];
  if (first === undefined) return;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  throw new PolicyError(first.code, `${first.field}: ${first.message}${more}`, {
    field: first.field,
  });
}

function effectiveLimits(properties: ProtectionPolicy): Limits {
  const limits = limitsByType[properties.backupManagementType];
  if (properties.backupManagementType !== 'AzureStorage') return limits;
  if (properties.vaultRetentionPolicy)
    return { ...limits, label: 'Azure Files (vault tier)', retention: vaultRetention };
  const hourly = properties.schedulePolicy.hourlySchedule;
  if (scheduleOf(properties).frequency !== 'Hourly' || !hourly || hourly.interval <= 0)
    return limits;
  // 200 snapshots a share: hourly schedules keep fewer days, floor(200 / snapshots a day) - 1.
  const perDay = Math.floor(Math.min(hourly.scheduleWindowDuration, 23) / hourly.interval) + 1;
  const maxDays = Math.max(1, Math.floor(200 / perDay) - 1);
  return { ...limits, retention: { ...limits.retention, daily: [1, maxDays] } };
}

/** Azure Files vault-tier policies keep their snapshots 1 to 30 days. */
function checkSnapshotRetention(properties: ProtectionPolicy, report: Report): void {
  const days = properties.vaultRetentionPolicy?.snapshotRetentionInDays;
  if (days !== undefined && (days < 1 || days > 30))
    report(
      'error',
      'properties.vaultRetentionPolicy.snapshotRetentionInDays',
      `Azure Files vault-tier policies keep snapshots 1 to 30 days, got ${days}`,
    );
}

function checkTimeZone(properties: ProtectionPolicy, issues: PolicyIssue[]): void {
  if (properties.timeZone === undefined) return;
  try {
    resolveTimeZoneName(properties.timeZone);
  } catch (error) {
    issues.push({
      severity: 'error',
      code: 'UNKNOWN_TIME_ZONE',
      field: 'properties.timeZone',
      message: (error as Error).message,
    });
  }
}

type Report = (severity: PolicyIssue['severity'], field: string, message: string) => void;

const schedulePath = 'properties.schedulePolicy';

function checkSchedule(
  properties: ProtectionPolicy,
  limits: Limits,
  report: Report,
): { scheduledTimes: Set<number>; scheduledDays: Set<DayOfWeek> | undefined } {
  const schedule = scheduleOf(properties);
  const v2 = properties.schedulePolicy.schedulePolicyType === 'SimpleSchedulePolicyV2';
  const timesField =
    v2 && schedule.frequency === 'Weekly'
      ? `${schedulePath}.weeklySchedule.scheduleRunTimes`
      : v2
        ? `${schedulePath}.dailySchedule.scheduleRunTimes`
        : `${schedulePath}.scheduleRunTimes`;
  const daysField = v2
    ? `${schedulePath}.weeklySchedule.scheduleRunDays`
    : `${schedulePath}.scheduleRunDays`;
  if (schedule.frequency === 'Hourly') {
    return { scheduledTimes: checkHourly(properties, report), scheduledDays: undefined };
  }
  const times = new Set(schedule.runTimes.map(timeOfDayOf));
  if (times.size === 0) report('error', timesField, 'at least one run time is required');
  if (times.size !== schedule.runTimes.length)
    report('warning', timesField, 'the same time of day is listed twice');
  if (times.size > limits.maxRunsPerDay)
    report(
      'error',
      timesField,
      `${limits.label} allows at most ${limits.maxRunsPerDay} backup${limits.maxRunsPerDay > 1 ? 's' : ''} a day, got ${times.size}`,
    );
  let scheduledDays: Set<DayOfWeek> | undefined;
  if (schedule.frequency === 'Weekly') {
    scheduledDays = new Set(schedule.runDays ?? []);
    if (scheduledDays.size === 0)
      report('error', daysField, 'a weekly schedule needs at least one run day');
  }
  const weekly = properties.schedulePolicy;
  if (
    weekly.schedulePolicyType === 'SimpleSchedulePolicy' &&
    weekly.scheduleWeeklyFrequency !== undefined &&
    weekly.scheduleWeeklyFrequency !== 0 &&
    (weekly.scheduleWeeklyFrequency < 1 || schedule.frequency !== 'Weekly')
  ) {
    report(
      'error',
      `${schedulePath}.scheduleWeeklyFrequency`,
      'must be 1 or more, and only on a weekly schedule',
    );
  }
  return { scheduledTimes: times, scheduledDays };
}

function checkHourly(properties: ProtectionPolicy, report: Report): Set<number> {
  const field = `${schedulePath}.hourlySchedule`;
  const hourly = properties.schedulePolicy.hourlySchedule;
  const type = properties.backupManagementType;
  const enhancedVm = type === 'AzureIaasVM' && properties.policyType === 'V2';
  if (!enhancedVm && type !== 'AzureStorage')
    report(
      'error',
      `${schedulePath}.scheduleRunFrequency`,
      'hourly schedules exist only for Enhanced (V2) Azure VM policies and Azure Files',
    );
  if (!hourly) {
    report('error', field, 'an hourly schedule needs hourlySchedule');
    return new Set();
  }
  if (![4, 6, 8, 12].includes(hourly.interval))
    report('error', `${field}.interval`, `must be 4, 6, 8 or 12 hours, got ${hourly.interval}`);
  const window = hourly.scheduleWindowDuration;
  if (window < 4 || window > 24 || (hourly.interval > 0 && window % hourly.interval !== 0))
    report(
      'error',
      `${field}.scheduleWindowDuration`,
      `must be 4 to 24 hours and a multiple of the interval (${hourly.interval}), got ${window}`,
    );
  const start = timeOfDayOf(hourly.scheduleWindowStartTime);
  const times = new Set<number>();
  const day = 86_400_000;
  for (
    let offset = 0;
    hourly.interval > 0 && offset <= window && offset < 24;
    offset += hourly.interval
  )
    times.add((start + offset * 3_600_000) % day);
  return times;
}

function checkDuration(
  duration: RetentionDuration,
  tier: Tier,
  field: string,
  limits: Limits,
  report: Report,
): void {
  const unit = unitOfTier[tier];
  if (duration.durationType !== unit)
    report(
      'error',
      `${field}.durationType`,
      `${tier} retention is counted in ${unit}, got ${duration.durationType}`,
    );
  const [min, max] = limits.retention[tier];
  if (duration.count < min || duration.count > max)
    report(
      'error',
      `${field}.count`,
      `${limits.label} keeps ${tier} points for ${min} to ${max} ${unit.toLowerCase()}, got ${duration.count}`,
    );
}

function checkTimes(
  times: string[] | null | undefined,
  field: string,
  scheduledTimes: Set<number>,
  hourly: boolean,
  report: Report,
): void {
  if (!times || times.length === 0) {
    if (!hourly) report('error', field, 'retentionTimes must name the scheduled time to retain');
    return;
  }
  for (const [index, time] of times.entries()) {
    if (!scheduledTimes.has(timeOfDayOf(time)))
      report(
        'error',
        `${field}[${index}]`,
        `${time.slice(11, 16)} is not a scheduled backup time: retention applies only to backup points`,
      );
  }
}

function checkDays(
  days: readonly DayOfWeek[],
  field: string,
  scheduledDays: Set<DayOfWeek> | undefined,
  report: Report,
): void {
  if (days.length === 0) report('error', field, 'at least one day of the week is required');
  if (scheduledDays === undefined) return;
  for (const [index, day] of days.entries()) {
    if (!scheduledDays.has(day))
      report(
        'error',
        `${field}[${index}]`,
        `${day} is not a scheduled backup day (${[...scheduledDays].join(', ')})`,
      );
  }
}

function checkRetention(
  properties: ProtectionPolicy,
  limits: Limits,
  scheduledTimes: Set<number>,
  scheduledDays: Set<DayOfWeek> | undefined,
  report: Report,
): void {
  const retention = properties.retentionPolicy;
  const base = 'properties.retentionPolicy';
  const hourly = scheduleOf(properties).frequency === 'Hourly';
  if (retention.retentionPolicyType === 'SimpleRetentionPolicy') {
    checkDuration(
      retention.retentionDuration,
      'daily',
      `${base}.retentionDuration`,
      limits,
      report,
    );
    return;
  }
  const { dailySchedule, weeklySchedule, monthlySchedule, yearlySchedule } = retention;
  if (scheduledDays !== undefined && dailySchedule)
    report(
      'error',
      `${base}.dailySchedule`,
      'a weekly schedule cannot have daily retention: use weeklySchedule',
    );
  if (scheduledDays === undefined && !dailySchedule)
    report('error', `${base}.dailySchedule`, 'a daily or hourly schedule needs daily retention');
  if (scheduledDays !== undefined && !weeklySchedule)
    report('error', `${base}.weeklySchedule`, 'a weekly schedule needs weekly retention');
  for (const tier of tiers) {
    const schedule = retention[`${tier}Schedule`];
    if (!schedule) continue;
    const field = `${base}.${tier}Schedule`;
    checkDuration(schedule.retentionDuration, tier, `${field}.retentionDuration`, limits, report);
    checkTimes(schedule.retentionTimes, `${field}.retentionTimes`, scheduledTimes, hourly, report);
  }
  if (weeklySchedule)
    checkDays(
      weeklySchedule.daysOfTheWeek,
      `${base}.weeklySchedule.daysOfTheWeek`,
      scheduledDays,
      report,
    );
  if (monthlySchedule)
    checkDayOfMonthRule(monthlySchedule, `${base}.monthlySchedule`, scheduledDays, report);
  if (yearlySchedule)
    checkDayOfMonthRule(yearlySchedule, `${base}.yearlySchedule`, scheduledDays, report);
  if (yearlySchedule && yearlySchedule.monthsOfYear.length === 0)
    report('error', `${base}.yearlySchedule.monthsOfYear`, 'at least one month is required');
}

function checkDayOfMonthRule(
  schedule: MonthlyRetentionSchedule,
  field: string,
  scheduledDays: Set<DayOfWeek> | undefined,
  report: Report,
): void {
  if (schedule.retentionScheduleFormatType === 'Weekly') {
    const weekly = schedule.retentionScheduleWeekly;
    if (!weekly) {
      report(
        'error',
        `${field}.retentionScheduleWeekly`,
        'the Weekly format needs retentionScheduleWeekly',
      );
      return;
    }
    checkDays(
      weekly.daysOfTheWeek,
      `${field}.retentionScheduleWeekly.daysOfTheWeek`,
      scheduledDays,
      report,
    );
    if (weekly.weeksOfTheMonth.length === 0)
      report(
        'error',
        `${field}.retentionScheduleWeekly.weeksOfTheMonth`,
        'at least one week is required',
      );
    return;
  }
  const daily = schedule.retentionScheduleDaily;
  if (!daily || daily.daysOfTheMonth.length === 0) {
    report(
      'error',
      `${field}.retentionScheduleDaily.daysOfTheMonth`,
      'the Daily format needs at least one day of the month',
    );
    return;
  }
  if (scheduledDays !== undefined)
    report(
      'error',
      `${field}.retentionScheduleFormatType`,
      'a weekly schedule does not run on every day of the month: use the Weekly format',
    );
  for (const [index, day] of daily.daysOfTheMonth.entries()) {
    const dayField = `${field}.retentionScheduleDaily.daysOfTheMonth[${index}]`;
    if (day.isLast) continue;
    if (day.date < 1 || day.date > 31)
      report('error', `${dayField}.date`, `must be 1 to 31 (or isLast), got ${day.date}`);
    else if (day.date > 28)
      report(
        'warning',
        `${dayField}.date`,
        `day ${day.date} does not occur in every month, which then gets no point from this rule: use isLast for month ends`,
      );
  }
}

function checkPointCount(policy: BackupPolicy, limits: Limits, report: Report): void {
  const bounds = tierPointBounds(policy);
  const total = Object.values(bounds).reduce((sum, n) => sum + n, 0);
  if (total <= limits.maxPoints) return;
  const breakdown = Object.entries(bounds)
    .map(([tier, n]) => `${tier} ${n}`)
    .join(' + ');
  // The per-tier sum counts shared points twice: exceeding it is a warning, unless even the
  // largest single tier exceeds the limit.
  const largest = Math.max(...Object.values(bounds));
  report(
    largest > limits.maxPoints ? 'error' : 'warning',
    'properties.retentionPolicy',
    `up to ${total} recovery points (${breakdown}) exceed the ${limits.label} limit of ${limits.maxPoints}`,
  );
}
