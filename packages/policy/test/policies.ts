import type { BackupPolicy, DayOfWeek } from '../src/azure/model.ts';

/** Builders of the policies the tests use, after the Azure REST API examples. */

const time = (hhmm: string) => `2018-01-24T${hhmm}:00Z`;

/** MARS: daily at the given times; daily/weekly/monthly/yearly retention on the first time. */
export function marsPolicy(times: string[] = ['22:00']): BackupPolicy {
  const retained = [time(times[0]!)];
  return {
    properties: {
      backupManagementType: 'MAB',
      schedulePolicy: {
        schedulePolicyType: 'SimpleSchedulePolicy',
        scheduleRunFrequency: 'Daily',
        scheduleRunTimes: times.map(time),
      },
      retentionPolicy: {
        retentionPolicyType: 'LongTermRetentionPolicy',
        dailySchedule: {
          retentionTimes: times.map(time),
          retentionDuration: { count: 7, durationType: 'Days' },
        },
        weeklySchedule: {
          daysOfTheWeek: ['Sunday'],
          retentionTimes: retained,
          retentionDuration: { count: 4, durationType: 'Weeks' },
        },
        monthlySchedule: {
          retentionScheduleFormatType: 'Daily',
          retentionScheduleDaily: { daysOfTheMonth: [{ date: 0, isLast: true }] },
          retentionTimes: retained,
          retentionDuration: { count: 12, durationType: 'Months' },
        },
        yearlySchedule: {
          retentionScheduleFormatType: 'Daily',
          monthsOfYear: ['December'],
          retentionScheduleDaily: { daysOfTheMonth: [{ date: 0, isLast: true }] },
          retentionTimes: retained,
          retentionDuration: { count: 10, durationType: 'Years' },
        },
      },
    },
  };
}

/** `ProtectionPolicies_CreateOrUpdate_Complex.json`: weekly Mon/Wed/Thu 10:00, PST. */
export function vmComplexPolicy(): BackupPolicy {
  const days: DayOfWeek[] = ['Monday', 'Wednesday', 'Thursday'];
  return {
    name: 'testPolicy1',
    properties: {
      backupManagementType: 'AzureIaasVM',
      timeZone: 'Pacific Standard Time',
      schedulePolicy: {
        schedulePolicyType: 'SimpleSchedulePolicy',
        scheduleRunFrequency: 'Weekly',
        scheduleRunDays: days,
        scheduleRunTimes: ['2018-01-24T10:00:00Z'],
      },
      retentionPolicy: {
        retentionPolicyType: 'LongTermRetentionPolicy',
        weeklySchedule: {
          daysOfTheWeek: days,
          retentionTimes: ['2018-01-24T10:00:00Z'],
          retentionDuration: { count: 1, durationType: 'Weeks' },
        },
        monthlySchedule: {
          retentionScheduleFormatType: 'Weekly',
          retentionScheduleWeekly: {
            daysOfTheWeek: ['Wednesday', 'Thursday'],
            weeksOfTheMonth: ['First', 'Third'],
          },
          retentionTimes: ['2018-01-24T10:00:00Z'],
          retentionDuration: { count: 2, durationType: 'Months' },
        },
        yearlySchedule: {
          retentionScheduleFormatType: 'Weekly',
          monthsOfYear: ['February', 'November'],
          retentionScheduleWeekly: {
            daysOfTheWeek: ['Monday', 'Thursday'],
            weeksOfTheMonth: ['Fourth'],
          },
          retentionTimes: ['2018-01-24T10:00:00Z'],
          retentionDuration: { count: 4, durationType: 'Years' },
        },
      },
    },
  };
}

/** `ProtectionPolicies_CreateOrUpdate_Hourly.json`: Azure Files every 4 h from 08:00 for 12 h. */
export function filesHourlyPolicy(): BackupPolicy {
  return {
    properties: {
      backupManagementType: 'AzureStorage',
      timeZone: 'UTC',
      schedulePolicy: {
        schedulePolicyType: 'SimpleSchedulePolicy',
        scheduleRunFrequency: 'Hourly',
        hourlySchedule: {
          interval: 4,
          scheduleWindowStartTime: '2021-09-29T08:00:00.000Z',
          scheduleWindowDuration: 12,
        },
      },
      retentionPolicy: {
        retentionPolicyType: 'LongTermRetentionPolicy',
        dailySchedule: {
          retentionTimes: null,
          retentionDuration: { count: 5, durationType: 'Days' },
        },
        weeklySchedule: {
          daysOfTheWeek: ['Sunday'],
          retentionTimes: null,
          retentionDuration: { count: 12, durationType: 'Weeks' },
        },
      },
    },
  };
}

/** The V2 `DefaultPolicy`: daily at 19:00, kept 30 days. */
export function vmDefaultPolicy(zone = 'UTC'): BackupPolicy {
  return {
    name: 'DefaultPolicy',
    properties: {
      backupManagementType: 'AzureIaasVM',
      policyType: 'V2',
      timeZone: zone,
      instantRpRetentionRangeInDays: 2,
      schedulePolicy: {
        schedulePolicyType: 'SimpleSchedulePolicyV2',
        scheduleRunFrequency: 'Daily',
        dailySchedule: { scheduleRunTimes: ['2021-12-17T19:00:00Z'] },
      },
      retentionPolicy: {
        retentionPolicyType: 'LongTermRetentionPolicy',
        dailySchedule: {
          retentionTimes: ['2021-12-17T19:00:00Z'],
          retentionDuration: { count: 30, durationType: 'Days' },
        },
      },
    },
  };
}
