import { describe, expect, it } from 'vitest';
import { marsPolicy, vmComplexPolicy } from '../../test/policies.ts';
import { thrown } from '../../test/thrown.ts';
import { PolicyError } from '../errors.ts';
import { type ExistingPoint, parseExistingPoints, planPolicyChange } from './change.ts';
import type { BackupPolicy, LongTermRetentionPolicy } from './model.ts';
import { simulateRecoveryPoints } from './simulate.ts';

const ltr = (policy: BackupPolicy) => policy.properties.retentionPolicy as LongTermRetentionPolicy;
const at = new Date('2026-03-01T00:00:00Z');
const existing = (): ExistingPoint[] =>
  simulateRecoveryPoints(marsPolicy(), { from: new Date('2026-01-01'), to: at });

describe('planPolicyChange', () => {
  it('changes nothing when the policy does not change', () => {
    const plan = planPolicyChange(existing(), marsPolicy(), marsPolicy(), { at });
    expect(plan.summary.extended + plan.summary.shortened + plan.summary.pruned).toBe(0);
    expect(plan.summary.unchanged).toBeGreaterThan(0);
  });

  it('extends existing points when retention grows, prunes them when it shrinks', () => {
    const longer = marsPolicy();
    ltr(longer).dailySchedule!.retentionDuration.count = 30;
    const plan = planPolicyChange(existing(), marsPolicy(), longer, { at });
    const daily = plan.points.filter(
      (p) => p.tagsBefore.join() === 'daily' && p.change !== 'expired',
    );
    expect(daily.length).toBeGreaterThanOrEqual(5);
    expect(daily.every((p) => p.change === 'extended')).toBe(true);
    // Points already past the old 7 days stay expired: the change does not bring them back.
    expect(plan.summary.expired).toBeGreaterThan(0);

    const shorter = marsPolicy();
    ltr(shorter).monthlySchedule!.retentionDuration.count = 1;
    const shrink = planPolicyChange(existing(), marsPolicy(), shorter, { at });
    expect(shrink.alive.after).toBe(shrink.alive.before - shrink.summary.pruned);
    const january = shrink.points.find((p) => p.time.toISOString().startsWith('2026-01-31'))!;
    expect(january).toMatchObject({ change: 'pruned', tagsAfter: ['daily', 'monthly'] });
    expect(january.expiryAfter).toEqual(at);
    expect(january.reason).toContain('retention changes apply to existing points');
  });

  it('keeps existing tags: a tier added applies only to later backups', () => {
    const withoutWeekly = marsPolicy();
    delete ltr(withoutWeekly).weeklySchedule;
    const points = simulateRecoveryPoints(withoutWeekly, { from: new Date('2026-02-20'), to: at });
    const plan = planPolicyChange(points, withoutWeekly, marsPolicy(), { at });
    expect(plan.points.every((p) => !p.tagsAfter.includes('weekly'))).toBe(true);
  });

  it('daily → weekly: existing daily points are cleaned up', () => {
    const weekly = vmComplexPolicy();
    weekly.properties.timeZone = undefined;
    const plan = planPolicyChange(existing(), marsPolicy(), weekly, { at });
    const dailyOnly = plan.points.filter(
      (p) => p.tagsBefore.join() === 'daily' && p.change !== 'expired',
    );
    expect(dailyOnly.length).toBeGreaterThan(0);
    for (const p of dailyOnly) {
      expect(p.change).toBe('pruned');
      expect(p.reason).toMatch(/daily to weekly/);
    }
  });

  it('weekly → daily: weekly points keep the days left under the old retention', () => {
    const old = vmComplexPolicy();
    const points = simulateRecoveryPoints(old, { from: new Date('2026-02-20'), to: at });
    const daily = marsPolicy();
    delete ltr(daily).weeklySchedule;
    const plan = planPolicyChange(points, old, daily, { at, timeZone: 'Pacific Standard Time' });
    const weeklyOnly = plan.points.filter(
      (p) => p.tagsBefore.join() === 'weekly' && p.change !== 'expired',
    );
    expect(weeklyOnly.length).toBeGreaterThan(0);
    for (const p of weeklyOnly) {
      expect(p.change).toBe('unchanged');
      expect(p.reason).toMatch(/weekly to daily/);
    }
  });

  it('leaves on-demand points alone and drops tiers that were removed', () => {
    const onDemand: ExistingPoint = {
      time: new Date('2026-02-01T00:00:00Z'),
      tags: [],
      expiry: new Date('2027-01-01T00:00:00Z'),
      onDemand: true,
    };
    const noYearly = marsPolicy();
    delete ltr(noYearly).yearlySchedule;
    const yearEnd: ExistingPoint = { time: new Date('2025-12-31T22:00:00Z'), tags: ['yearly'] };
    const plan = planPolicyChange([onDemand, yearEnd], marsPolicy(), noYearly, { at });
    expect(plan.points[0]).toMatchObject({ change: 'unchanged', expiryAfter: onDemand.expiry });
    expect(plan.points[1]).toMatchObject({ change: 'pruned', tagsAfter: [] });
    expect(plan.points[1]!.reason).toMatch(/^assumption/);
  });
});

describe('parseExistingPoints', () => {
  it('reads simulate output, with or without its envelope', () => {
    const points = [
      { time: '2026-01-01T22:00:00.000Z', tags: ['daily'], expiry: '2026-01-08T22:00:00.000Z' },
    ];
    expect(parseExistingPoints(JSON.stringify({ points }))).toEqual([
      { time: new Date(points[0]!.time), tags: ['daily'], expiry: new Date(points[0]!.expiry) },
    ]);
  });

  it('refuses points files of another format version', () => {
    const error = thrown(() => parseExistingPoints({ formatVersion: 2, points: [] }));
    expect(error).toMatchObject({ code: 'POINTS_MALFORMED', field: 'formatVersion' });
  });

  it.each([
    ['{', ''],
    ['{"x":1}', ''],
    ['[{"time":"yesterday","tags":[]}]', '[0].time'],
    ['[{"time":"2026-01-01T00:00:00Z","tags":["hourly"]}]', '[0].tags'],
  ])('rejects %s with POINTS_MALFORMED', (text, field) => {
    const error = thrown(() => parseExistingPoints(text));
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({ code: 'POINTS_MALFORMED' });
    if (field) expect((error as PolicyError).field).toBe(field);
  });
});
