/**
 * The Azure Backup policy model: `Microsoft.RecoveryServices/vaults/backupPolicies` as ARM JSON
 * (API 2025-02-01 and earlier), limited to the parts that decide when recovery points are created
 * and how long they are kept. Field names and enum values are exactly those of the REST API, so
 * a policy read from `az backup policy show` or the portal's JSON view can be used as is.
 */

export const daysOfWeek = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
] as const;
export type DayOfWeek = (typeof daysOfWeek)[number];

export const monthsOfYear = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;
export type MonthOfYear = (typeof monthsOfYear)[number];

export const weeksOfMonth = ['First', 'Second', 'Third', 'Fourth', 'Last'] as const;
/** `First` = days 1–7 of the month, …, `Fourth` = days 22–28, `Last` = its last 7 days. */
export type WeekOfMonth = (typeof weeksOfMonth)[number];

export const durationTypes = ['Days', 'Weeks', 'Months', 'Years'] as const;
export type RetentionDurationType = (typeof durationTypes)[number];

/** `{ count: 3, durationType: 'Weeks' }` keeps a point for three weeks. */
export interface RetentionDuration {
  count: number;
  durationType: RetentionDurationType;
}

export const backupManagementTypes = [
  'AzureIaasVM',
  'MAB',
  'AzureStorage',
  'DPM',
  'AzureBackupServer',
] as const;
/**
 * `AzureIaasVM` (Azure VMs), `MAB` (the MARS agent), `AzureStorage` (Azure Files), and `DPM` /
 * `AzureBackupServer` (online protection from DPM or MABS, which uses the MARS model with DPM's
 * limits).
 */
export type BackupManagementType = (typeof backupManagementTypes)[number];

export type ScheduleRunFrequency = 'Daily' | 'Weekly' | 'Hourly';

/** Runs every `interval` hours from `scheduleWindowStartTime` for `scheduleWindowDuration` hours. */
export interface HourlySchedule {
  interval: number;
  /** Only the time of day counts; read in the policy's time zone. */
  scheduleWindowStartTime: string;
  scheduleWindowDuration: number;
}

/** Daily or weekly runs at up to a few times of day (MARS: 3, DPM/MABS: 2, Azure VM V1: 1). */
export interface SimpleSchedulePolicy {
  schedulePolicyType: 'SimpleSchedulePolicy';
  scheduleRunFrequency: ScheduleRunFrequency;
  scheduleRunDays?: DayOfWeek[] | null;
  /** Full timestamps of which only the time of day counts, read in the policy's time zone. */
  scheduleRunTimes?: string[] | null;
  hourlySchedule?: HourlySchedule | null;
  /** Weekly schedules only: run every N weeks ("every alternate Sunday" is 2). */
  scheduleWeeklyFrequency?: number;
}

/** The Enhanced (V2) Azure VM schedule, which adds hourly runs. */
export interface SimpleSchedulePolicyV2 {
  schedulePolicyType: 'SimpleSchedulePolicyV2';
  scheduleRunFrequency: ScheduleRunFrequency;
  hourlySchedule?: HourlySchedule | null;
  dailySchedule?: { scheduleRunTimes: string[] } | null;
  weeklySchedule?: { scheduleRunDays: DayOfWeek[]; scheduleRunTimes: string[] } | null;
}

export type SchedulePolicy = SimpleSchedulePolicy | SimpleSchedulePolicyV2;

/** A day of the month; `isLast: true` means the month's last day whatever `date` says. */
export interface Day {
  date: number;
  isLast: boolean;
}

export interface DailyRetentionSchedule {
  /** Times of day whose points this tier keeps; `null` on hourly schedules = the last run. */
  retentionTimes?: string[] | null;
  retentionDuration: RetentionDuration;
}

export interface WeeklyRetentionSchedule extends DailyRetentionSchedule {
  daysOfTheWeek: DayOfWeek[];
}

export interface DailyRetentionFormat {
  daysOfTheMonth: Day[];
}

export interface WeeklyRetentionFormat {
  daysOfTheWeek: DayOfWeek[];
  weeksOfTheMonth: WeekOfMonth[];
}

export interface MonthlyRetentionSchedule extends DailyRetentionSchedule {
  retentionScheduleFormatType: 'Daily' | 'Weekly';
  retentionScheduleDaily?: DailyRetentionFormat | null;
  retentionScheduleWeekly?: WeeklyRetentionFormat | null;
}

export interface YearlyRetentionSchedule extends MonthlyRetentionSchedule {
  monthsOfYear: MonthOfYear[];
}

export interface LongTermRetentionPolicy {
  retentionPolicyType: 'LongTermRetentionPolicy';
  dailySchedule?: DailyRetentionSchedule | null;
  weeklySchedule?: WeeklyRetentionSchedule | null;
  monthlySchedule?: MonthlyRetentionSchedule | null;
  yearlySchedule?: YearlyRetentionSchedule | null;
}

/** Keeps every scheduled point for one duration (tagged `daily` here). */
export interface SimpleRetentionPolicy {
  retentionPolicyType: 'SimpleRetentionPolicy';
  retentionDuration: RetentionDuration;
}

export type RetentionPolicy = LongTermRetentionPolicy | SimpleRetentionPolicy;

/** The `properties` of a backup policy resource. Unknown fields are carried through untouched. */
export interface ProtectionPolicy {
  backupManagementType: BackupManagementType;
  schedulePolicy: SchedulePolicy;
  retentionPolicy: RetentionPolicy;
  /** Windows time zone id (`"Pacific Standard Time"`) or IANA name; UTC when absent. */
  timeZone?: string;
  /** Azure VM instant-restore snapshot retention in days. */
  instantRpRetentionRangeInDays?: number;
  /** Azure VM: `V2` = Enhanced policy (hourly schedules). */
  policyType?: 'V1' | 'V2';
  /** Azure Files: keeps vault-tier copies beyond the snapshot limits. */
  vaultRetentionPolicy?: {
    vaultRetention: RetentionPolicy;
    snapshotRetentionInDays: number;
  } | null;
}

/** A backup policy resource as ARM returns it. */
export interface BackupPolicy {
  id?: string;
  name?: string;
  type?: string;
  properties: ProtectionPolicy;
}

/** The retention tiers a recovery point can belong to, finest first. */
export const tiers = ['daily', 'weekly', 'monthly', 'yearly'] as const;
export type Tier = (typeof tiers)[number];
