import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/thrown.ts';
import { PolicyError } from '../errors.ts';
import { applyBorgKeepRules, parseBorgInterval } from './borg.ts';
import { applyResticKeepRules, formatKeepDuration, parseKeepDuration } from './restic.ts';
import { parseSnapshots, type Snapshot } from './snapshot-time.ts';

const snapshot = (id: string, time: string, tags?: string[]): Snapshot => ({
  id,
  time,
  ...(tags ? { tags } : {}),
});
const ids = (list: Snapshot[]) => list.map((s) => s.id);
const now = new Date('2030-01-01T00:00:00Z');

const daily = Array.from({ length: 10 }, (_, i) =>
  snapshot(`d${i}`, `2016-01-${String(i + 1).padStart(2, '0')}T10:00:00Z`),
);

describe('applyResticKeepRules', () => {
  it('keeps the oldest snapshot when a rule has periods left (restic ≥ 0.16)', () => {
    const result = applyResticKeepRules(daily, { weekly: 5 }, { now });
    // Weeks: Jan 10 (W01), Jan 3 (2015-W53); then the oldest for the remaining count.
    expect(ids(result.keep)).toEqual(['d9', 'd2', 'd0']);
    expect(result.reasons.map((r) => r.matches)).toEqual([
      ['weekly snapshot'],
      ['weekly snapshot'],
      ['oldest weekly snapshot'],
    ]);
    expect(result.reasons.at(-1)!.counters).toEqual({ weekly: 2 });
    expect(
      ids(applyResticKeepRules(daily, { weekly: 5 }, { now, keepOldest: false }).keep),
    ).toEqual(['d9', 'd2']);
  });

  it('lets counts overlap: a snapshot uses a period of every rule it is newest in', () => {
    const result = applyResticKeepRules(daily, { last: 5, daily: 5 }, { now });
    expect(result.keep.length).toBe(5);
    expect(result.reasons[0]!.matches).toEqual(['last snapshot', 'daily snapshot']);
  });

  it('keeps everything a rule covers with -1 (unlimited), and shows -1 in counters', () => {
    const result = applyResticKeepRules(daily, { daily: -1 }, { now });
    expect(result.keep.length).toBe(10);
    expect(result.reasons[0]!.counters).toEqual({ daily: -1 });
  });

  it('buckets by the offset stored in each snapshot', () => {
    // Same instant, different local days: New Year in Auckland is still Dec 31 in UTC.
    const list = [
      snapshot('nz', '2016-01-01T10:30:00+13:00'),
      snapshot('utc', '2015-12-31T20:00:00Z'),
    ];
    expect(ids(applyResticKeepRules(list, { yearly: 2 }, { now, keepOldest: false }).keep)).toEqual(
      ['nz', 'utc'],
    );
  });

  it('orders ties stably and to the nanosecond', () => {
    const list = [
      snapshot('a', '2016-01-01T10:00:00.000000001Z'),
      snapshot('b', '2016-01-01T10:00:00.000000002Z'),
      snapshot('c', '2016-01-01T10:00:00Z'),
      snapshot('d', '2016-01-01T10:00:00Z'),
    ];
    expect(ids(applyResticKeepRules(list, { last: 4 }, { now }).keep)).toEqual([
      'b',
      'a',
      'c',
      'd',
    ]);
  });

  it('measures within from the newest snapshot that is not in the future', () => {
    const list = [...daily, snapshot('future', '2031-01-01T00:00:00Z')];
    const result = applyResticKeepRules(list, { within: '2d' }, { now });
    // Newest past snapshot: Jan 10 10:00; window starts Jan 8 10:00 (excluded).
    expect(ids(result.keep)).toEqual(['future', 'd9', 'd8']);
    expect(result.reasons[1]!.matches).toEqual(['within 2d']);
  });

  it("follows Go's AddDate normalisation for months (Mar 31 - 1m = Feb 31 = Mar 3)", () => {
    const list = [
      snapshot('latest', '2015-03-31T12:00:00Z'),
      snapshot('mar3late', '2015-03-03T12:00:01Z'),
      snapshot('mar3', '2015-03-03T12:00:00Z'),
      snapshot('mar2', '2015-03-02T13:00:00Z'),
    ];
    expect(ids(applyResticKeepRules(list, { within: '1m' }, { now }).keep)).toEqual([
      'latest',
      'mar3late',
    ]);
  });

  it('keeps tagged snapshots; an empty tag matches untagged ones', () => {
    const list = [
      snapshot('x', '2016-01-02T00:00:00Z', ['foo', 'bar']),
      snapshot('y', '2016-01-01T00:00:00Z'),
    ];
    const result = applyResticKeepRules(list, { tags: [['foo', 'bar'], ['']] }, { now });
    expect(result.reasons.map((r) => r.matches)).toEqual([
      ['has tags [foo, bar]'],
      ['has tags []'],
    ]);
    // As restic's HasTags: an empty tag matches an untagged snapshot before the other tags count.
    const mixed = applyResticKeepRules(list, { tags: [['', 'foo']] }, { now });
    expect(ids(mixed.keep)).toEqual(['y']);
  });

  it('applies the rules per host and paths, as restic groups them by default', () => {
    const list = [
      { ...snapshot('a1', '2016-01-02T10:00:00Z'), hostname: 'a', paths: ['/data'] },
      { ...snapshot('b1', '2016-01-02T09:00:00Z'), hostname: 'b', paths: ['/data'] },
      { ...snapshot('a2', '2016-01-01T10:00:00Z'), hostname: 'a', paths: ['/data'] },
      { ...snapshot('b2', '2016-01-01T09:00:00Z'), hostname: 'b', paths: ['/home', '/data'] },
    ];
    expect(ids(applyResticKeepRules(list, { last: 1 }, { now }).keep)).toEqual(['a1', 'b1', 'b2']);
    expect(ids(applyResticKeepRules(list, { last: 1 }, { now, groupBy: ['host'] }).keep)).toEqual([
      'a1',
      'b1',
    ]);
    expect(ids(applyResticKeepRules(list, { last: 1 }, { now, groupBy: [] }).keep)).toEqual(['a1']);
    expect(() => applyResticKeepRules(list, { tags: [['x']] }, { now, groupBy: ['host'] })).toThrow(
      /of group \{"host":"a"\}/,
    );
  });

  it('refuses to remove everything unless allowed, and refuses empty rules', () => {
    expect(() => applyResticKeepRules(daily, { tags: [['typo']] }, { now })).toThrow(
      expect.objectContaining({ code: 'KEEP_REMOVES_ALL' }),
    );
    expect(
      applyResticKeepRules(daily, { tags: [['typo']] }, { now, allowRemoveAll: true }).remove
        .length,
    ).toBe(10);
    expect(() => applyResticKeepRules(daily, {})).toThrow(RangeError);
    expect(() => applyResticKeepRules(daily, { daily: -2 })).toThrow(RangeError);
    expect(() => applyResticKeepRules(daily, { daily: 1.5 })).toThrow(RangeError);
  });

  it('property: keep + remove is a partition, kept ≤ sum of counts, invariant to input order', () => {
    const arbitrarySnapshots = fc
      .uniqueArray(fc.integer({ min: 0, max: 3 * 365 * 24 * 60 }), { minLength: 1, maxLength: 60 })
      .map((minutes) =>
        minutes.map((m, i) =>
          snapshot(`s${i}`, new Date(Date.UTC(2015, 0, 1) + m * 60_000).toISOString()),
        ),
      );
    const counts = fc.record({
      last: fc.integer({ min: 0, max: 5 }),
      hourly: fc.integer({ min: 0, max: 5 }),
      daily: fc.integer({ min: 0, max: 10 }),
      weekly: fc.integer({ min: 0, max: 5 }),
      monthly: fc.integer({ min: 1, max: 12 }),
      yearly: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(arbitrarySnapshots, counts, (list, rules) => {
        const result = applyResticKeepRules(list, rules, { now });
        expect(result.keep.length + result.remove.length).toBe(list.length);
        expect(result.reasons.length).toBe(result.keep.length);
        const sum = Object.values(rules).reduce((a, b) => a + b, 0);
        expect(result.keep.length).toBeLessThanOrEqual(sum);
        const reversed = applyResticKeepRules([...list].reverse(), rules, { now });
        expect(ids(reversed.keep)).toEqual(ids(result.keep));
      }),
      { numRuns: 60 },
    );
  });
});

describe('keep durations', () => {
  it.each([
    ['1y2m3d4h', { years: 1, months: 2, days: 3, hours: 4 }, '1y2m3d4h'],
    ['7d', { years: 0, months: 0, days: 7, hours: 0 }, '7d'],
    [' 12h1y ', { years: 1, months: 0, days: 0, hours: 12 }, '1y12h'],
  ])('parses %s', (text, duration, formatted) => {
    expect(parseKeepDuration(text)).toEqual(duration);
    expect(formatKeepDuration(parseKeepDuration(text))).toBe(formatted);
  });

  it.each(['', '5', '2w', 'd', '1.5d'])('rejects "%s"', (text) => {
    expect(() => parseKeepDuration(text)).toThrow(RangeError);
  });
});

describe('applyBorgKeepRules', () => {
  // borg's docs/misc/prune-example.txt: daily 2015 archives without Dec 19, pruned on 2016-01-01.
  const year = Array.from({ length: 365 }, (_, day) => {
    const time = new Date(Date.UTC(2015, 0, 1 + day, 10)).toISOString();
    return { id: time.slice(0, 10), time };
  }).filter((a) => a.id !== '2015-12-19');

  it('reproduces the documented example: dailies, month ends, and the oldest as yearly', () => {
    const result = applyBorgKeepRules(year, { daily: 14, monthly: 6, yearly: 1 });
    expect(result.reasons.filter((r) => r.rule === 'monthly').map((r) => r.id)).toEqual([
      '2015-11-30',
      '2015-10-31',
      '2015-09-30',
      '2015-08-31',
      '2015-07-31',
      '2015-06-30',
    ]);
    expect(result.reasons.at(-1)).toMatchObject({
      id: '2015-01-01',
      rule: 'yearly[oldest]',
      number: 1,
    });
    expect(result.reasons.filter((r) => r.rule === 'daily').at(-1)!.id).toBe('2015-12-17');
  });

  it('keeps within an interval of now, and those do not count for later rules', () => {
    const result = applyBorgKeepRules(
      year,
      { within: '3d', daily: 1 },
      { now: new Date('2016-01-01T00:00:00Z') },
    );
    expect(result.reasons.map((r) => `${r.id} ${r.rule} #${r.number}`)).toEqual([
      '2015-12-31 within #1',
      '2015-12-30 within #2',
      '2015-12-29 within #3',
      '2015-12-28 daily #1',
    ]);
  });

  it('parses borg intervals (1m = 31 days, 1y = 365 days) and rejects others', () => {
    expect([parseBorgInterval('12H'), parseBorgInterval('1m'), parseBorgInterval('1y')]).toEqual([
      12, 744, 8760,
    ]);
    for (const bad of ['0d', '1.5d', '3x', ''])
      expect(() => parseBorgInterval(bad)).toThrow(RangeError);
  });

  it('rejects bad times and rules', () => {
    expect(() => applyBorgKeepRules([{ id: 'a', time: 'noon' }], { daily: 1 })).toThrow(
      PolicyError,
    );
    // Without an offset the result would depend on the reader's zone.
    expect(() =>
      applyBorgKeepRules([{ id: 'a', time: '2016-01-01T10:00:00' }], { daily: 1 }),
    ).toThrow(expect.objectContaining({ code: 'SNAPSHOTS_MALFORMED', field: '[0].time' }));
    expect(() => applyBorgKeepRules(year, {})).toThrow(RangeError);
  });
});

describe('parseSnapshots', () => {
  it('reads restic snapshots --json, ignoring other fields', () => {
    const text = JSON.stringify([
      { id: 'a', time: '2016-01-01T00:00:00+01:00', hostname: 'h', tags: ['x'] },
    ]);
    expect(parseSnapshots(text)).toEqual([
      { id: 'a', time: '2016-01-01T00:00:00+01:00', hostname: 'h', tags: ['x'] },
    ]);
  });

  it.each([
    ['{', undefined],
    ['{}', undefined],
    ['[{"time":"2016-01-01T00:00:00Z"}]', '[0].id'],
    ['[{"id":"a","time":"2016-01-01"}]', '[0].time'],
    ['[{"id":"a","time":"2016-02-30T00:00:00Z"}]', '[0].time'],
    [
      '[{"id":"a","time":"2016-01-01T00:00:00Z"},{"id":"a","time":"2016-01-01T00:00:00Z"}]',
      '[1].id',
    ],
    ['[{"id":"a","time":"2016-01-01T00:00:00Z","tags":[1]}]', '[0].tags'],
  ])('rejects %s with SNAPSHOTS_MALFORMED', (text, field) => {
    const error = thrown(() => parseSnapshots(text));
    expect(error).toMatchObject({ code: 'SNAPSHOTS_MALFORMED', field });
  });
});
