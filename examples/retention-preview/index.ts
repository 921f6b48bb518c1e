// Preview a retention policy before applying it: is it valid, how many recovery points will exist at
// most, how much storage will they take after two years, and which existing points would a tighter
// policy remove. Run with `npm start` (after `npm run build` at the repository root).
import {
  parsePolicy,
  peakAlive,
  planPolicyChange,
  projectStorage,
  simulateRecoveryPoints,
  validatePolicy,
} from '@offline-seed/policy';

const GiB = 1024 ** 3;

function marsPolicy(dailyDays: number, monthlyMonths: number) {
  return parsePolicy({
    properties: {
      backupManagementType: 'MAB',
      timeZone: 'W. Europe Standard Time',
      schedulePolicy: {
        schedulePolicyType: 'SimpleSchedulePolicy',
        scheduleRunFrequency: 'Daily',
        scheduleRunTimes: ['2026-01-01T22:00:00Z'],
      },
      retentionPolicy: {
        retentionPolicyType: 'LongTermRetentionPolicy',
        dailySchedule: {
          retentionTimes: ['2026-01-01T22:00:00Z'],
          retentionDuration: { count: dailyDays, durationType: 'Days' },
        },
        monthlySchedule: {
          retentionScheduleFormatType: 'Daily',
          retentionScheduleDaily: { daysOfTheMonth: [{ date: 0, isLast: true }] },
          retentionTimes: ['2026-01-01T22:00:00Z'],
          retentionDuration: { count: monthlyMonths, durationType: 'Months' },
        },
      },
    },
  });
}

const current = marsPolicy(30, 24);
const issues = validatePolicy(current);
if (issues.length > 0) {
  for (const issue of issues) console.error(`${issue.severity} ${issue.field}: ${issue.message}`);
  process.exit(1);
}

const from = new Date('2026-01-01T00:00:00Z');
const to = new Date('2028-01-01T00:00:00Z');
const points = simulateRecoveryPoints(current, { from, to });
const peak = peakAlive(points);
const [storage] = projectStorage(points, [to], {
  fullSizeBytes: 2048 * GiB,
  dailyChangeRate: 0.01,
  compressionRatio: 1.6,
});

console.log(`points created in two years: ${points.length}`);
console.log(`most points alive at once:   ${peak.count}`);
console.log(`storage after two years:     ${((storage?.bytes ?? 0) / GiB).toFixed(0)} GiB`);

// What would cutting daily retention to 14 days and monthly to 12 months do, one year in?
const changeAt = new Date('2027-01-01T00:00:00Z');
const existing = points.filter((point) => point.time < changeAt);
const plan = planPolicyChange(existing, current, marsPolicy(14, 12), { at: changeAt });
const byChange = Map.groupBy(plan.points, (point) => point.change);
console.log('cutting retention to 14 days / 12 months on 2027-01-01, existing points:');
for (const [change, affected] of byChange) {
  console.log(
    `  ${String(affected.length).padStart(4)} points ${change} (e.g. ${affected[0]?.reason})`,
  );
}
