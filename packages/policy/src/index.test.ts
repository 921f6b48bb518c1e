import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PolicyError,
  parseExistingPoints,
  parsePolicy,
  parseSnapshots,
  simulateRecoveryPoints,
  validatePolicy,
} from './index.ts';

const sourceDir = fileURLToPath(new URL('.', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('the package', () => {
  it('stays isomorphic: no node: imports and no dependencies in its sources', () => {
    for (const file of sourceFiles(sourceDir)) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/from '(node:|[a-z@][^.'][^']*')/);
    }
  });
});

/** Only the package's typed errors (or RangeError for bad arguments) may escape its readers. */
function expectTypedFailure(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error instanceof PolicyError || error instanceof RangeError, String(error)).toBe(true);
  }
}

describe('readers never fail with anything but their typed errors (fuzz)', () => {
  const policyLike = fc.record(
    {
      backupManagementType: fc.constantFrom('MAB', 'AzureIaasVM', 'AzureStorage', 'DPM', 'x'),
      schedulePolicy: fc.record(
        {
          schedulePolicyType: fc.constantFrom('SimpleSchedulePolicy', 'SimpleSchedulePolicyV2'),
          scheduleRunFrequency: fc.constantFrom('Daily', 'Weekly', 'Hourly'),
          scheduleRunTimes: fc.array(
            fc.constantFrom('2018-01-24T10:00:00Z', '2018-01-24T23:30:00Z', 'x'),
          ),
          scheduleRunDays: fc.array(fc.constantFrom('Monday', 'Sunday', 'Funday')),
          hourlySchedule: fc.record({
            interval: fc.integer({ min: -2, max: 30 }),
            scheduleWindowStartTime: fc.constant('2018-01-24T08:00:00Z'),
            scheduleWindowDuration: fc.integer({ min: -2, max: 30 }),
          }),
        },
        { requiredKeys: [] },
      ),
      retentionPolicy: fc.record(
        {
          retentionPolicyType: fc.constantFrom('LongTermRetentionPolicy', 'SimpleRetentionPolicy'),
          retentionDuration: fc.record({
            count: fc.integer({ min: -5, max: 400 }),
            durationType: fc.constantFrom('Days', 'Weeks', 'Months', 'Years', 'Eons'),
          }),
          dailySchedule: fc.record({
            retentionTimes: fc.option(fc.array(fc.constant('2018-01-24T10:00:00Z'))),
            retentionDuration: fc.record({
              count: fc.integer({ min: -5, max: 400 }),
              durationType: fc.constantFrom('Days', 'Weeks', 'Months', 'Years'),
            }),
          }),
          monthlySchedule: fc.record({
            retentionScheduleFormatType: fc.constantFrom('Daily', 'Weekly'),
            retentionScheduleDaily: fc.record({
              daysOfTheMonth: fc.array(
                fc.record({ date: fc.integer({ min: -1, max: 40 }), isLast: fc.boolean() }),
              ),
            }),
            retentionScheduleWeekly: fc.record({
              daysOfTheWeek: fc.array(fc.constantFrom('Monday', 'Sunday')),
              weeksOfTheMonth: fc.array(fc.constantFrom('First', 'Last', 'Fifth')),
            }),
            retentionTimes: fc.array(fc.constant('2018-01-24T10:00:00Z')),
            retentionDuration: fc.record({
              count: fc.integer({ min: 0, max: 50 }),
              durationType: fc.constant('Months'),
            }),
          }),
        },
        { requiredKeys: ['retentionPolicyType'] },
      ),
      timeZone: fc.constantFrom(
        'UTC',
        'Eastern Standard Time',
        'Australia/Lord_Howe',
        'Nowhere/Else',
      ),
    },
    { requiredKeys: [] },
  );

  it('parsePolicy, validatePolicy and simulateRecoveryPoints on policy-shaped noise', () => {
    fc.assert(
      fc.property(policyLike, (properties) => {
        expectTypedFailure(() => {
          const policy = parsePolicy(JSON.stringify({ properties }));
          validatePolicy(policy);
          simulateRecoveryPoints(policy, {
            from: new Date('2026-03-01'),
            to: new Date('2026-05-01'),
          });
        });
      }),
      { numRuns: 300 },
    );
  });

  it('the readers on arbitrary JSON and text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        expectTypedFailure(() => parsePolicy(text));
        expectTypedFailure(() => parseSnapshots(text));
        expectTypedFailure(() => parseExistingPoints(text));
      }),
      { numRuns: 300 },
    );
  });
});
