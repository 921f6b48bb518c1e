/**
 * Simulates 10 years of hourly backups (87,600 runs) under a full daily/weekly/monthly/yearly
 * policy in a zone with daylight saving, and counts the points alive; prints the times.
 *
 *   node packages/policy/bench/simulate.ts
 */
import { type BackupPolicy, parsePolicy, peakAlive, simulateRecoveryPoints } from '../src/index.ts';

const at = '2026-01-01T23:00:00Z';
const everyHour = Array.from(
  { length: 24 },
  (_, h) => `2026-01-01T${String(h).padStart(2, '0')}:00:00Z`,
);
const policy: BackupPolicy = parsePolicy({
  properties: {
    backupManagementType: 'AzureIaasVM',
    policyType: 'V2',
    timeZone: 'Eastern Standard Time',
    schedulePolicy: {
      schedulePolicyType: 'SimpleSchedulePolicyV2',
      scheduleRunFrequency: 'Hourly',
      // Every hour around the clock: beyond Azure's 4-hour minimum, to load the simulator.
      hourlySchedule: {
        interval: 1,
        scheduleWindowStartTime: '2026-01-01T00:00:00Z',
        scheduleWindowDuration: 23,
      },
    },
    retentionPolicy: {
      retentionPolicyType: 'LongTermRetentionPolicy',
      // Every run is kept as a daily point: 87,600 points.
      dailySchedule: {
        retentionTimes: everyHour,
        retentionDuration: { count: 30, durationType: 'Days' },
      },
      weeklySchedule: {
        daysOfTheWeek: ['Sunday'],
        retentionTimes: [at],
        retentionDuration: { count: 12, durationType: 'Weeks' },
      },
      monthlySchedule: {
        retentionScheduleFormatType: 'Daily',
        retentionScheduleDaily: {
          daysOfTheMonth: [
            { date: 1, isLast: false },
            { date: 0, isLast: true },
          ],
        },
        retentionTimes: [at],
        retentionDuration: { count: 24, durationType: 'Months' },
      },
      yearlySchedule: {
        retentionScheduleFormatType: 'Weekly',
        monthsOfYear: ['January'],
        retentionScheduleWeekly: { daysOfTheWeek: ['Sunday'], weeksOfTheMonth: ['First'] },
        retentionTimes: [at],
        retentionDuration: { count: 10, durationType: 'Years' },
      },
    },
  },
});

const from = new Date('2026-01-01T00:00:00Z');
const to = new Date('2036-01-01T00:00:00Z');
// Wall time varies with the machine's load; CPU time (this process, all threads) less so.
const cpuMs = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return ((user + system) / 1000).toFixed(0);
};
for (let round = 1; round <= 3; round++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const points = simulateRecoveryPoints(policy, { from, to });
  const simulated = performance.now();
  const simulateCpu = cpuMs(cpu);
  const peak = peakAlive(points);
  const counted = performance.now();
  console.log(
    `round ${round}: ${points.length} points over 10 years: ` +
      `simulate ${(simulated - started).toFixed(0)} ms (cpu ${simulateCpu} ms), ` +
      `peak alive ${peak.count} in ${(counted - simulated).toFixed(0)} ms`,
  );
}
