import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  filesHourlyPolicy,
  marsPolicy,
  vmComplexPolicy,
  vmDefaultPolicy,
} from '../../test/policies.ts';
import { thrown } from '../../test/thrown.ts';
import { PolicyError } from '../errors.ts';
import { aliveTimeline, countAlive, peakAlive, projectStorage, tierPointBounds } from './counts.ts';
import { type BackupPolicy, daysOfWeek, type LongTermRetentionPolicy } from './model.ts';
import { parsePolicy, serializePolicy } from './parse.ts';
import { expandSchedule, simulateRecoveryPoints } from './simulate.ts';
import { assertValidPolicy, validatePolicy } from './validate.ts';

const range = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });
const isoList = (dates: Iterable<Date>) => [...dates].map((d) => d.toISOString());
const ltr = (policy: BackupPolicy) => policy.properties.retentionPolicy as LongTermRetentionPolicy;

describe('parsePolicy / serializePolicy', () => {
  it('round-trips the ARM JSON, unknown fields included', () => {
    const resource = { ...vmComplexPolicy(), id: '/subscriptions/x/policy', extra: { a: 1 } };
    (resource.properties as unknown as Record<string, unknown>).protectedItemsCount = 3;
    const parsed = parsePolicy(JSON.stringify(resource));
    expect(JSON.parse(serializePolicy(parsed))).toEqual(resource);
    expect(parsePolicy(serializePolicy(parsed))).toEqual(parsed);
  });

  it('accepts bare properties and wraps them', () => {
    expect(parsePolicy(marsPolicy().properties)).toEqual(marsPolicy());
  });

  it.each([
    ['not json', '{', ''],
    ['not an object', '[]', 'policy'],
    [
      'missing schedule',
      { properties: { backupManagementType: 'MAB' } },
      'properties.schedulePolicy',
    ],
    [
      'bad enum',
      { ...marsPolicy(), properties: { ...marsPolicy().properties, backupManagementType: 'Tape' } },
      'properties.backupManagementType',
    ],
  ])('rejects %s with POLICY_MALFORMED', (_, input, field) => {
    const error = thrown(() =>
      parsePolicy(typeof input === 'string' ? input : JSON.stringify(input)),
    );
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({ code: 'POLICY_MALFORMED' });
    if (field) expect((error as PolicyError).field).toBe(field);
  });

  it('names the exact field of a bad nested value', () => {
    const policy = marsPolicy();
    (
      ltr(policy).monthlySchedule!.retentionScheduleDaily!.daysOfTheMonth[0] as { date: unknown }
    ).date = '1';
    (policy.properties.schedulePolicy as { scheduleRunTimes: string[] }).scheduleRunTimes = [
      '22:00',
    ];
    const error = thrown(() => parsePolicy(policy)) as PolicyError;
    expect(error.field).toBe('properties.schedulePolicy.scheduleRunTimes[0]');
    expect(error.message).toContain('ISO 8601');
  });
});

describe('validatePolicy', () => {
  it.each([
    ['MARS', marsPolicy()],
    ['MARS three times a day', marsPolicy(['06:00', '12:00', '22:00'])],
    ['Azure VM (complex example)', vmComplexPolicy()],
    ['Azure VM V2 default', vmDefaultPolicy()],
    ['Azure Files hourly', filesHourlyPolicy()],
  ])('accepts %s', (_, policy) => {
    expect(validatePolicy(policy).filter((i) => i.severity === 'error')).toEqual([]);
  });

  const cases: Array<[string, (p: BackupPolicy) => BackupPolicy, string, RegExp]> = [
    [
      'four MARS runs a day',
      () => marsPolicy(['01:00', '06:00', '12:00', '22:00']),
      'properties.schedulePolicy.scheduleRunTimes',
      /MARS allows at most 3 backups a day, got 4/,
    ],
    [
      'daily retention below 7 days',
      (p) => {
        ltr(p).dailySchedule!.retentionDuration.count = 3;
        return p;
      },
      'properties.retentionPolicy.dailySchedule.retentionDuration.count',
      /7 to 9999 days, got 3/,
    ],
    [
      'yearly beyond 99 years',
      (p) => {
        ltr(p).yearlySchedule!.retentionDuration.count = 100;
        return p;
      },
      'properties.retentionPolicy.yearlySchedule.retentionDuration.count',
      /1 to 99 years/,
    ],
    [
      'weekly counted in days',
      (p) => {
        ltr(p).weeklySchedule!.retentionDuration.durationType = 'Days';
        return p;
      },
      'properties.retentionPolicy.weeklySchedule.retentionDuration.durationType',
      /counted in Weeks/,
    ],
    [
      'a retention time that is not a backup time',
      (p) => {
        ltr(p).weeklySchedule!.retentionTimes = ['2018-01-24T18:00:00Z'];
        return p;
      },
      'properties.retentionPolicy.weeklySchedule.retentionTimes[0]',
      /18:00 is not a scheduled backup time/,
    ],
  ];
  it.each(cases)('rejects %s, naming the field', (_, edit, field, message) => {
    const issues = validatePolicy(edit(marsPolicy()));
    expect(issues).toContainEqual(expect.objectContaining({ severity: 'error', field }));
    expect(issues.find((i) => i.field === field)!.message).toMatch(message);
  });

  it('rejects monthly/yearly days outside a weekly schedule', () => {
    const policy = vmComplexPolicy();
    ltr(policy).yearlySchedule!.retentionScheduleWeekly!.daysOfTheWeek = ['Monday', 'Friday'];
    const issues = validatePolicy(policy);
    expect(issues).toContainEqual(
      expect.objectContaining({
        field: 'properties.retentionPolicy.yearlySchedule.retentionScheduleWeekly.daysOfTheWeek[1]',
        message: 'Friday is not a scheduled backup day (Monday, Wednesday, Thursday)',
      }),
    );
  });

  it('rejects daily retention and day-of-month rules on a weekly schedule', () => {
    const policy = vmComplexPolicy();
    ltr(policy).dailySchedule = ltr(marsPolicy()).dailySchedule;
    ltr(policy).monthlySchedule = ltr(marsPolicy()).monthlySchedule;
    const fields = validatePolicy(policy).map((i) => i.field);
    expect(fields).toContain('properties.retentionPolicy.dailySchedule');
    expect(fields).toContain(
      'properties.retentionPolicy.monthlySchedule.retentionScheduleFormatType',
    );
  });

  it('checks hourly intervals and windows', () => {
    const policy = filesHourlyPolicy();
    policy.properties.schedulePolicy.hourlySchedule!.interval = 5;
    policy.properties.schedulePolicy.hourlySchedule!.scheduleWindowDuration = 12;
    expect(validatePolicy(policy).map((i) => i.field)).toEqual(
      expect.arrayContaining([
        'properties.schedulePolicy.hourlySchedule.interval',
        'properties.schedulePolicy.hourlySchedule.scheduleWindowDuration',
      ]),
    );
    const mars = marsPolicy();
    mars.properties.schedulePolicy.scheduleRunFrequency = 'Hourly';
    expect(validatePolicy(mars).map((i) => i.field)).toContain(
      'properties.schedulePolicy.scheduleRunFrequency',
    );
  });

  it('checks Azure VM instant-restore days (V1 1–5, weekly 5, V2 1–30)', () => {
    const field = 'properties.instantRpRetentionRangeInDays';
    const weekly = vmComplexPolicy();
    weekly.properties.instantRpRetentionRangeInDays = 2;
    expect(validatePolicy(weekly)).toContainEqual(
      expect.objectContaining({
        field,
        message: 'a weekly Standard policy keeps snapshots exactly 5 days, got 2',
      }),
    );
    weekly.properties.instantRpRetentionRangeInDays = 5;
    expect(validatePolicy(weekly).map((i) => i.field)).not.toContain(field);
    const enhanced = vmDefaultPolicy();
    enhanced.properties.instantRpRetentionRangeInDays = 30;
    expect(validatePolicy(enhanced)).toEqual([]);
    enhanced.properties.instantRpRetentionRangeInDays = 31;
    expect(validatePolicy(enhanced).map((i) => i.field)).toEqual([field]);
  });

  it('limits hourly Azure Files daily retention to floor(200 / snapshots a day) - 1 days', () => {
    const files = filesHourlyPolicy(); // 4 snapshots a day: at most 49 days
    ltr(files).dailySchedule!.retentionDuration.count = 50;
    expect(validatePolicy(files)).toContainEqual(
      expect.objectContaining({
        message: 'Azure Files (snapshot tier) keeps daily points for 1 to 49 days, got 50',
      }),
    );
    ltr(files).dailySchedule!.retentionDuration.count = 49;
    expect(validatePolicy(files).filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('checks Azure Files vault-tier snapshot days', () => {
    const files = filesHourlyPolicy();
    files.properties.vaultRetentionPolicy = {
      vaultRetention: files.properties.retentionPolicy,
      snapshotRetentionInDays: 31,
    };
    ltr(files).dailySchedule!.retentionDuration.count = 30;
    expect(validatePolicy(files).map((i) => i.field)).toEqual([
      'properties.vaultRetentionPolicy.snapshotRetentionInDays',
    ]);
  });

  it('allows DPM/MABS two backups a day, not three', () => {
    const dpm = marsPolicy(['06:00', '22:00']);
    dpm.properties.backupManagementType = 'DPM';
    expect(validatePolicy(dpm)).toEqual([]);
    const three = marsPolicy(['06:00', '12:00', '22:00']);
    three.properties.backupManagementType = 'AzureBackupServer';
    expect(validatePolicy(three).map((i) => i.message)).toContain(
      'MABS allows at most 2 backups a day, got 3',
    );
  });

  it('warns about dates that are missing from some months', () => {
    const policy = marsPolicy();
    ltr(policy).monthlySchedule!.retentionScheduleDaily!.daysOfTheMonth = [
      { date: 31, isLast: false },
    ];
    expect(validatePolicy(policy)).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        field:
          'properties.retentionPolicy.monthlySchedule.retentionScheduleDaily.daysOfTheMonth[0].date',
      }),
    );
  });

  it('checks the 9999-point limit and the Azure Files snapshot limit', () => {
    const policy = marsPolicy(['01:00', '02:00', '03:00']);
    ltr(policy).dailySchedule!.retentionDuration.count = 9999;
    expect(validatePolicy(policy)).toContainEqual(
      expect.objectContaining({ severity: 'error', field: 'properties.retentionPolicy' }),
    );
    const files = filesHourlyPolicy();
    ltr(files).weeklySchedule!.retentionDuration.count = 200;
    expect(validatePolicy(files)).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/limit of 200/) }),
    );
  });

  it('reports unknown time zones, and assertValidPolicy throws the first error', () => {
    const policy = vmDefaultPolicy('Atlantis Standard Time');
    expect(validatePolicy(policy)).toContainEqual(
      expect.objectContaining({ code: 'UNKNOWN_TIME_ZONE', field: 'properties.timeZone' }),
    );
    expect(thrown(() => assertValidPolicy(policy))).toMatchObject({
      code: 'UNKNOWN_TIME_ZONE',
      field: 'properties.timeZone',
    });
    expect(() => assertValidPolicy(vmDefaultPolicy())).not.toThrow();
  });
});

describe('expandSchedule', () => {
  it('runs MARS three times a day', () => {
    const runs = expandSchedule(
      marsPolicy(['06:00', '12:00', '22:00']),
      range('2026-01-01', '2026-01-02'),
    );
    expect(isoList(runs)).toEqual([
      '2026-01-01T06:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
      '2026-01-01T22:00:00.000Z',
    ]);
  });

  it('keeps local time across DST, moves runs out of the gap, and runs once in the overlap', () => {
    const at = (hhmm: string) => {
      const policy = vmDefaultPolicy('Eastern Standard Time');
      (
        policy.properties.schedulePolicy as { dailySchedule: { scheduleRunTimes: string[] } }
      ).dailySchedule.scheduleRunTimes = [`2021-12-17T${hhmm}:00Z`];
      return policy;
    };
    expect(isoList(expandSchedule(at('02:30'), range('2026-03-07', '2026-03-10')))).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:30:00.000Z', // 02:30 does not exist: 03:30 EDT
      '2026-03-09T06:30:00.000Z',
    ]);
    expect(isoList(expandSchedule(at('01:30'), range('2026-10-31', '2026-11-03')))).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, not again at 01:30 EST
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('runs every other week with scheduleWeeklyFrequency 2', () => {
    const policy = vmComplexPolicy();
    Object.assign(policy.properties.schedulePolicy, { scheduleWeeklyFrequency: 2 });
    policy.properties.timeZone = 'UTC';
    const runs = isoList(expandSchedule(policy, range('2018-01-22', '2018-02-12')));
    // The anchor week is that of the run time's date (2018-01-24): weeks of Jan 22 and Feb 5.
    expect(runs.map((r) => r.slice(0, 10))).toEqual([
      '2018-01-22',
      '2018-01-24',
      '2018-01-25',
      '2018-02-05',
      '2018-02-07',
      '2018-02-08',
    ]);
  });

  it('runs hourly windows up to their end, and the last run is the daily point', () => {
    const points = simulateRecoveryPoints(filesHourlyPolicy(), range('2026-01-04', '2026-01-05'));
    expect(isoList(expandSchedule(filesHourlyPolicy(), range('2026-01-04', '2026-01-05')))).toEqual(
      [
        '2026-01-04T08:00:00.000Z',
        '2026-01-04T12:00:00.000Z',
        '2026-01-04T16:00:00.000Z',
        '2026-01-04T20:00:00.000Z',
      ],
    );
    expect(points.map((p) => [p.time.toISOString(), p.tags])).toEqual([
      ['2026-01-04T20:00:00.000Z', ['daily', 'weekly']],
    ]);
  });

  it('runs hourly windows across midnight and through DST changes on the wall clock', () => {
    const policy = filesHourlyPolicy();
    policy.properties.timeZone = 'Europe/London';
    policy.properties.schedulePolicy.hourlySchedule!.scheduleWindowStartTime =
      '2021-09-29T20:00:00Z';
    // The window opened on Saturday 20:00 runs 20, 00, 04, 08 local; clocks go back at 02:00 BST.
    const runs = isoList(
      expandSchedule(policy, range('2026-10-24T18:00:00Z', '2026-10-25T12:00:00Z')),
    );
    expect(runs).toEqual([
      '2026-10-24T19:00:00.000Z', // 20:00 BST
      '2026-10-24T23:00:00.000Z', // 00:00 BST
      '2026-10-25T04:00:00.000Z', // 04:00 GMT: five hours later, the clock went back
      '2026-10-25T08:00:00.000Z',
    ]);
    const points = simulateRecoveryPoints(
      policy,
      range('2026-10-24T18:00:00Z', '2026-10-25T12:00:00Z'),
    );
    // The window's last run (08:00 Sunday) is the Saturday window's daily point.
    expect(points.map((p) => [p.time.toISOString(), p.tags])).toEqual([
      ['2026-10-25T08:00:00.000Z', ['daily']],
    ]);
  });

  it("handles Lord Howe's 30-minute daylight saving", () => {
    const policy = vmDefaultPolicy('Lord Howe Standard Time');
    (
      policy.properties.schedulePolicy as { dailySchedule: { scheduleRunTimes: string[] } }
    ).dailySchedule.scheduleRunTimes = ['2021-12-17T02:15:00Z'];
    ltr(policy).dailySchedule!.retentionTimes = ['2021-12-17T02:15:00Z'];
    const points = simulateRecoveryPoints(
      policy,
      range('2026-10-02T00:00:00Z', '2026-10-05T00:00:00Z'),
    );
    expect(points.map((p) => p.time.toISOString())).toEqual([
      '2026-10-02T15:45:00.000Z', // Oct 3, 02:15 +10:30
      '2026-10-03T15:45:00.000Z', // Oct 4, 02:15 does not exist: 02:45 +11:00
      '2026-10-04T15:15:00.000Z', // Oct 5, 02:15 +11:00
    ]);
    // Expiry is 30 wall-clock days later, in whatever offset applies then.
    expect(points[0]!.expiry.toISOString()).toBe('2026-11-01T15:15:00.000Z');
  });

  it('refuses retention counts it cannot compute, naming the field', () => {
    const policy = marsPolicy();
    ltr(policy).monthlySchedule!.retentionDuration.count = -1;
    expect(
      thrown(() => simulateRecoveryPoints(policy, range('2026-01-01', '2026-02-01'))),
    ).toMatchObject({
      code: 'POLICY_INVALID',
      field: 'properties.retentionPolicy.monthlySchedule.retentionDuration.count',
    });
    ltr(policy).monthlySchedule!.retentionDuration.count = 2 ** 31 - 1;
    expect(() => simulateRecoveryPoints(policy, range('2026-01-01', '2026-02-01'))).toThrow(
      PolicyError,
    );
  });

  it('rejects invalid ranges with RangeError', () => {
    expect(() => simulateRecoveryPoints(marsPolicy(), range('1800-01-01', '2100-01-01'))).toThrow(
      RangeError,
    );
    expect(() => expandSchedule(marsPolicy(), range('2026-02-01', '2026-01-01'))).toThrow(
      RangeError,
    );
    expect(() => simulateRecoveryPoints(marsPolicy(), range('x', '2026-01-01'))).toThrow(
      RangeError,
    );
  });
});

describe('simulateRecoveryPoints', () => {
  it('tags the complex example: First/Third Wed+Thu monthly, Fourth Mon+Thu of Feb yearly', () => {
    const points = simulateRecoveryPoints(vmComplexPolicy(), range('2026-02-01', '2026-03-01'));
    const tagged = points.filter((p) => p.tags.length > 1);
    expect(
      tagged.map((p) => [p.time.toISOString().slice(0, 10), p.tags.join('+'), p.rule]),
    ).toEqual([
      ['2026-02-04', 'weekly+monthly', 'monthly'],
      ['2026-02-05', 'weekly+monthly', 'monthly'],
      ['2026-02-18', 'weekly+monthly', 'monthly'],
      ['2026-02-19', 'weekly+monthly', 'monthly'],
      ['2026-02-23', 'weekly+yearly', 'yearly'],
      ['2026-02-26', 'weekly+yearly', 'yearly'],
    ]);
    // 10:00 PST = 18:00Z; yearly expiry 4 years on, same local time.
    expect(tagged[4]!.time.toISOString()).toBe('2026-02-23T18:00:00.000Z');
    expect(tagged[4]!.expiry.toISOString()).toBe('2030-02-23T18:00:00.000Z');
  });

  it('puts isLast on the last day of each month, leap years included, expiring at month ends', () => {
    const points = simulateRecoveryPoints(marsPolicy(), range('2024-01-01', '2025-01-01'));
    const monthly = points.filter((p) => p.tags.includes('monthly'));
    expect(monthly.map((p) => p.time.toISOString().slice(0, 10))).toEqual([
      '2024-01-31',
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
      '2024-05-31',
      '2024-06-30',
      '2024-07-31',
      '2024-08-31',
      '2024-09-30',
      '2024-10-31',
      '2024-11-30',
      '2024-12-31',
    ]);
    expect(monthly[1]!.expiry.toISOString().slice(0, 10)).toBe('2025-02-28');
    expect(monthly.at(-1)!.tags).toEqual(['daily', 'monthly', 'yearly']);
    expect(monthly.at(-1)!.rule).toBe('yearly');
  });

  it('gives dates 29–31 no point in months without them', () => {
    const policy = marsPolicy();
    ltr(policy).monthlySchedule!.retentionScheduleDaily!.daysOfTheMonth = [
      { date: 30, isLast: false },
    ];
    const monthly = simulateRecoveryPoints(policy, range('2025-01-01', '2025-04-01')).filter((p) =>
      p.tags.includes('monthly'),
    );
    expect(monthly.map((p) => p.time.toISOString().slice(0, 10))).toEqual([
      '2025-01-30',
      '2025-03-30',
    ]);
  });

  it('counts distinct points: 7 daily + 4 weekly + 12 monthly + 10 yearly overlap', () => {
    const policy = marsPolicy();
    const points = simulateRecoveryPoints(policy, range('2020-01-01', '2032-01-01'));
    const bounds = tierPointBounds(policy);
    expect(bounds).toEqual({ daily: 7, weekly: 4, monthly: 12, yearly: 10 });
    const peak = peakAlive(points);
    expect(peak.count).toBeLessThanOrEqual(33);
    expect(peak.count).toBeGreaterThan(25);
    expect(countAlive(points, peak.time!)).toBe(peak.count);
    const at = new Date('2031-06-15T12:00:00Z');
    const step = aliveTimeline(points).findLast((s) => s.time <= at)!;
    expect(countAlive(points, at)).toBe(step.count);
  });
});

describe('properties of simulated points', () => {
  const zones = ['UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kolkata'];
  const arbitraryPolicy = fc
    .record({
      times: fc.uniqueArray(fc.integer({ min: 0, max: 47 }), { minLength: 1, maxLength: 3 }),
      daily: fc.integer({ min: 7, max: 60 }),
      weekly: fc.integer({ min: 4, max: 20 }),
      weekday: fc.integer({ min: 0, max: 6 }),
      monthly: fc.integer({ min: 3, max: 24 }),
      monthDays: fc.uniqueArray(fc.integer({ min: 0, max: 31 }), { minLength: 1, maxLength: 3 }),
      yearly: fc.integer({ min: 1, max: 3 }),
      weeklyFormat: fc.boolean(),
      zone: fc.constantFrom(...zones),
    })
    .map((r): BackupPolicy => {
      const times = r.times.map(
        (half) =>
          `2018-01-24T${String(Math.floor(half / 2)).padStart(2, '0')}:${half % 2 ? '30' : '00'}:00Z`,
      );
      const base = marsPolicy();
      const retention = ltr(base);
      base.properties.timeZone = r.zone;
      (base.properties.schedulePolicy as { scheduleRunTimes: string[] }).scheduleRunTimes = times;
      retention.dailySchedule = {
        retentionTimes: times,
        retentionDuration: { count: r.daily, durationType: 'Days' },
      };
      retention.weeklySchedule!.daysOfTheWeek = [daysOfWeek[r.weekday]!];
      retention.weeklySchedule!.retentionTimes = [times[0]!];
      retention.weeklySchedule!.retentionDuration.count = r.weekly;
      retention.monthlySchedule!.retentionDuration.count = r.monthly;
      retention.monthlySchedule!.retentionTimes = [times[0]!];
      retention.yearlySchedule!.retentionTimes = [times.at(-1)!];
      retention.yearlySchedule!.retentionDuration.count = r.yearly;
      retention.monthlySchedule!.retentionScheduleDaily!.daysOfTheMonth = r.monthDays.map((d) =>
        d === 0 ? { date: 0, isLast: true } : { date: d, isLast: false },
      );
      if (r.weeklyFormat) {
        retention.yearlySchedule!.retentionScheduleFormatType = 'Weekly';
        retention.yearlySchedule!.retentionScheduleWeekly = {
          daysOfTheWeek: [daysOfWeek[r.weekday]!],
          weeksOfTheMonth: ['Last'],
        };
      }
      return base;
    });

  it('never keeps more points than the sum of tier bounds, never expires before creation', () => {
    fc.assert(
      fc.property(arbitraryPolicy, fc.integer({ min: 2015, max: 2030 }), (policy, year) => {
        const points = simulateRecoveryPoints(policy, range(`${year}-01-01`, `${year + 3}-01-01`));
        const bound = Object.values(tierPointBounds(policy)).reduce((a, b) => a + b, 0);
        expect(Math.max(...aliveTimeline(points).map((s) => s.count))).toBeLessThanOrEqual(bound);
        const bad = points.filter(
          (p, i) =>
            p.expiry <= p.time ||
            !p.tags.includes(p.rule) ||
            (i > 0 && p.time <= points[i - 1]!.time),
        );
        expect(bad).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it('agrees with a brute-force count at every step of the timeline', () => {
    fc.assert(
      fc.property(arbitraryPolicy, (policy) => {
        const points = simulateRecoveryPoints(policy, range('2025-11-01', '2026-03-01'));
        const mismatches = aliveTimeline(points).filter(
          (step) => countAlive(points, step.time) !== step.count,
        );
        expect(mismatches).toEqual([]);
      }),
      { numRuns: 15 },
    );
  });

  it('counts alive points the same whatever the order of the list', () => {
    fc.assert(
      fc.property(arbitraryPolicy, fc.integer(), (policy, seed) => {
        const points = simulateRecoveryPoints(policy, range('2024-01-01', '2025-06-01'));
        const shuffled = [...points].sort(
          (a, b) => ((a.time.getTime() ^ seed) % 7) - ((b.time.getTime() ^ seed) % 7),
        );
        expect(aliveTimeline(shuffled)).toEqual(aliveTimeline(points));
        const at = new Date('2025-01-01T00:00:00Z');
        expect(countAlive(shuffled, at)).toBe(countAlive(points, at));
      }),
      { numRuns: 20 },
    );
  });

  it('splits a range without changing the points', () => {
    fc.assert(
      fc.property(arbitraryPolicy, fc.integer({ min: 1, max: 360 }), (policy, splitDay) => {
        const whole = simulateRecoveryPoints(policy, range('2025-01-01', '2026-01-01'));
        const split = new Date(Date.UTC(2025, 0, 1) + splitDay * 86_400_000 + 3_600_000 * 5);
        const parts = [
          ...simulateRecoveryPoints(policy, { from: new Date('2025-01-01'), to: split }),
          ...simulateRecoveryPoints(policy, { from: split, to: new Date('2026-01-01') }),
        ];
        expect(parts).toEqual(whole);
      }),
      { numRuns: 20 },
    );
  });
});

describe('projectStorage', () => {
  it('adds changed data per point on top of one full copy, divided by the compression ratio', () => {
    const points = simulateRecoveryPoints(vmDefaultPolicy(), range('2026-01-01', '2026-03-01'));
    const [early, late] = projectStorage(
      points,
      [new Date('2026-01-01T20:00:00Z'), new Date('2026-02-28T20:00:00Z')],
      { fullSizeBytes: 1000, dailyChangeRate: 0.02, compressionRatio: 2 },
    );
    expect(early).toMatchObject({ points: 1, bytes: 500 });
    // 30 alive points a day apart: 1000 + 29 × 20 bytes, halved.
    expect(late).toMatchObject({ points: 30, bytes: 790 });
  });

  it('grows with the change rate and never exceeds a full copy per point (property)', () => {
    const points = simulateRecoveryPoints(marsPolicy(), range('2026-01-01', '2027-01-01'));
    const at = [new Date('2026-03-15T00:00:00Z'), new Date('2026-12-31T23:00:00Z')];
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        (rateA, rateB, ratio) => {
          const [low, high] = rateA <= rateB ? [rateA, rateB] : [rateB, rateA];
          const options = { fullSizeBytes: 1e12, compressionRatio: ratio };
          const a = projectStorage(points, at, { ...options, dailyChangeRate: low });
          const b = projectStorage(points, at, { ...options, dailyChangeRate: high });
          for (let i = 0; i < at.length; i++) {
            expect(a[i]!.bytes).toBeLessThanOrEqual(b[i]!.bytes);
            expect(b[i]!.bytes).toBeLessThanOrEqual(Math.ceil((b[i]!.points * 1e12) / ratio));
            expect(a[i]!.points).toBe(countAlive(points, at[i]!));
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('rejects nonsense with RangeError', () => {
    for (const options of [
      { fullSizeBytes: -1, dailyChangeRate: 0 },
      { fullSizeBytes: 1, dailyChangeRate: Number.NaN },
      { fullSizeBytes: 1, dailyChangeRate: 0, compressionRatio: 0.5 },
    ])
      expect(() => projectStorage([], [], options)).toThrow(RangeError);
  });
});
