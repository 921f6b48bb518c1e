import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../errors.ts';
import { addMonthsClamped, daysInMonth, isoWeek, weekday } from './civil.ts';
import { windowsToIana } from './windows-zones.ts';
import { resolveTimeZoneName, timeZone } from './zone.ts';

const wall = (text: string) => Date.parse(`${text}Z`);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');

describe('civil calendar', () => {
  it.each([
    ['2014-12-29T00:00:00', 2015, 1],
    ['2016-01-03T23:59:59', 2015, 53],
    ['2016-01-04T00:00:00', 2016, 1],
    ['2021-01-03T12:00:00', 2020, 53],
    ['2024-12-30T00:00:00', 2025, 1],
    ['2023-01-01T00:00:00', 2022, 52],
  ])('ISO week of %s is %i-W%i', (text, year, week) => {
    expect(isoWeek(wall(text))).toEqual({ year, week });
  });

  it.each([
    ['2024-01-31T10:00:00', 1, '2024-02-29T10:00:00Z'],
    ['2023-01-31T10:00:00', 1, '2023-02-28T10:00:00Z'],
    ['2024-02-29T00:00:00', 12, '2025-02-28T00:00:00Z'],
    ['2024-02-29T00:00:00', 48, '2028-02-29T00:00:00Z'],
    ['2024-03-31T00:00:00', -1, '2024-02-29T00:00:00Z'],
    ['2024-12-15T00:00:00', 1, '2025-01-15T00:00:00Z'],
  ])('%s + %i months = %s (clamped to month end)', (text, months, expected) => {
    expect(iso(addMonthsClamped(wall(text), months))).toBe(expected);
  });

  it('knows leap years and weekdays', () => {
    expect([2000, 1900, 2024, 2100].map((y) => daysInMonth(y, 2))).toEqual([29, 28, 29, 28]);
    expect(weekday(wall('1970-01-01T00:00:00'))).toBe(4);
    expect(weekday(wall('1969-12-28T00:00:00'))).toBe(0);
  });

  it('ISO weeks agree with a day-by-day count (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -20000, max: 60000 }), (day) => {
        const ms = day * 86_400_000;
        const { year, week } = isoWeek(ms);
        const monday = ms - ((weekday(ms) + 6) % 7) * 86_400_000;
        // Week 1 holds January 4: the Monday of `week` lies (week-1) weeks after week 1's Monday.
        const jan4 = Date.UTC(year, 0, 4);
        const week1Monday = jan4 - ((weekday(jan4) + 6) % 7) * 86_400_000;
        expect((monday - week1Monday) / (7 * 86_400_000) + 1).toBe(week);
      }),
    );
  });
});

describe('time zones', () => {
  it('resolves Windows ids (any case) and IANA names', () => {
    expect(resolveTimeZoneName('Pacific Standard Time')).toBe('America/Los_Angeles');
    expect(resolveTimeZoneName('w. europe standard time')).toBe('Europe/Berlin');
    expect(resolveTimeZoneName('Australia/Lord_Howe')).toBe('Australia/Lord_Howe');
  });

  it('maps every Windows id to a zone this platform knows', () => {
    for (const iana of Object.values(windowsToIana)) expect(() => timeZone(iana)).not.toThrow();
  });

  it('rejects unknown names with UNKNOWN_TIME_ZONE', () => {
    const attempt = () => timeZone('Mars Standard Time', 'properties.timeZone');
    expect(attempt).toThrow(PolicyError);
    expect(attempt).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_TIME_ZONE', field: 'properties.timeZone' }),
    );
  });

  it.each([
    // Spring forward: the skipped wall time lands after the gap.
    ['America/New_York', '2026-03-08T02:30:00', '2026-03-08T07:30:00Z'],
    ['America/New_York', '2026-03-08T01:59:00', '2026-03-08T06:59:00Z'],
    ['America/New_York', '2026-03-08T03:00:00', '2026-03-08T07:00:00Z'],
    // Fall back: the repeated wall time takes the earlier instant.
    ['America/New_York', '2026-11-01T01:30:00', '2026-11-01T05:30:00Z'],
    ['Europe/London', '2026-03-29T01:30:00', '2026-03-29T01:30:00Z'],
    ['Europe/London', '2026-10-25T01:30:00', '2026-10-25T00:30:00Z'],
    // Lord Howe shifts by 30 minutes: 02:00 → 02:30 in October, 02:00 → 01:30 in April.
    ['Australia/Lord_Howe', '2026-10-04T02:15:00', '2026-10-03T15:45:00Z'],
    ['Australia/Lord_Howe', '2026-04-05T01:45:00', '2026-04-04T14:45:00Z'],
    ['Australia/Lord_Howe', '2026-07-01T12:00:00', '2026-07-01T01:30:00Z'],
    ['Asia/Kolkata', '2026-07-01T12:00:00', '2026-07-01T06:30:00Z'],
  ])('%s %s is %s', (zone, text, expected) => {
    expect(iso(timeZone(zone).toInstant(wall(text)))).toBe(expected);
  });

  it('round-trips every instant through wall time (property)', () => {
    const zones = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Pacific/Chatham'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) }),
        (name, instant) => {
          const zone = timeZone(name);
          const ms = Math.floor(instant / 60_000) * 60_000;
          const back = zone.toInstant(zone.toWall(ms));
          // Only the repeated hour maps back to its earlier twin.
          if (back !== ms) {
            expect(zone.toWall(back)).toBe(zone.toWall(ms));
            expect(back).toBeLessThan(ms);
          }
        },
      ),
    );
  });
});
