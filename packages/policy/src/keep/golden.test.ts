import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Archive, applyBorgKeepRules, type BorgKeepRules } from './borg.ts';
import { applyResticKeepRules, type ResticKeepRules } from './restic.ts';
import type { Snapshot } from './snapshot-time.ts';

// Produced by real restic and borg (scripts/restic-golden.ts, scripts/borg-golden.ts).
const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../test/golden/${name}`, import.meta.url), 'utf8')) as T;

interface ResticGolden {
  generatedBy: string;
  snapshots: Snapshot[];
  cases: Array<{
    args: string[];
    rules: ResticKeepRules;
    keep: string[];
    remove: string[];
    reasons: Array<{ id: string; matches: string[]; counters: object }>;
  }>;
}

interface BorgGolden {
  archives: Archive[];
  cases: Array<{
    zone: string;
    args: string[];
    rules: BorgKeepRules;
    keep: Array<{ id: string; rule: string; number: number }>;
  }>;
}

describe('restic forget conformance (golden data from restic 0.14)', () => {
  const golden = load<ResticGolden>('restic-forget.json');
  // restic lists results group by group (host, paths); compare them as sets and by id.
  const byId = (reasons: Array<{ id: string; matches: string[]; counters: object }>) =>
    Object.fromEntries(reasons.map(({ id, matches, counters }) => [id, { matches, counters }]));
  const run = (snapshots: Snapshot[], rules: ResticKeepRules) =>
    // restic 0.14 predates keep-oldest (0.16), so compare with it off.
    applyResticKeepRules(snapshots, rules, { keepOldest: false, now: new Date('2026-01-01') });

  it('covers several groups', () => {
    expect(new Set(golden.snapshots.map((s) => s.hostname)).size).toBe(2);
  });

  it.each(golden.cases.map((c) => [c.args.join(' '), c] as const))('%s', (_, goldenCase) => {
    const result = run(golden.snapshots, goldenCase.rules);
    expect(new Set(result.keep.map((s) => s.id))).toEqual(new Set(goldenCase.keep));
    expect(new Set(result.remove.map((s) => s.id))).toEqual(new Set(goldenCase.remove));
    expect(byId(result.reasons)).toEqual(byId(goldenCase.reasons));
    // Within a group, restic's newest-first order is kept.
    const host = (id: string) => golden.snapshots.find((s) => s.id === id)!.hostname;
    for (const name of ['golden', 'second'])
      expect(result.keep.map((s) => s.id).filter((id) => host(id) === name)).toEqual(
        goldenCase.keep.filter((id) => host(id) === name),
      );
  });

  it('keeps the same set whatever the input order (no two snapshots share a time)', () => {
    const reversed = [...golden.snapshots].reverse();
    for (const goldenCase of golden.cases) {
      const result = run(reversed, goldenCase.rules);
      expect(new Set(result.keep.map((s) => s.id))).toEqual(new Set(goldenCase.keep));
    }
  });
});

interface UpstreamGolden {
  snapshots: Snapshot[];
  cases: Array<{
    index: number;
    rules: ResticKeepRules;
    keep: Array<{ time: string; matches: string[]; counters: object }>;
  }>;
}

describe("restic forget conformance (restic's own expectations, 0.16 and later)", () => {
  // Input list and expected results of restic's TestApplyPolicy, for policies that exercise
  // keep-oldest, unlimited counts and within-<period>.
  const golden = load<UpstreamGolden>('restic-upstream.json');
  it.each(golden.cases.map((c) => [c.index, c] as const))('policy #%i', (_, goldenCase) => {
    const result = applyResticKeepRules(golden.snapshots, goldenCase.rules);
    expect(
      result.reasons.map(({ time, matches, counters }) => ({ time, matches, counters })),
    ).toEqual(goldenCase.keep);
  });
});

describe('borg prune conformance (golden data from borg 1.2)', () => {
  const golden = load<BorgGolden>('borg-prune.json');
  it.each(golden.cases.map((c) => [`${c.zone}: ${c.args.join(' ')}`, c] as const))(
    '%s',
    (_, goldenCase) => {
      const result = applyBorgKeepRules(golden.archives, goldenCase.rules, {
        timeZone: goldenCase.zone,
      });
      expect(result.reasons.map(({ id, rule, number }) => ({ id, rule, number }))).toEqual(
        [...goldenCase.keep].sort(
          (a, b) =>
            golden.archives.findIndex((x) => x.id === b.id) -
            golden.archives.findIndex((x) => x.id === a.id),
        ),
      );
    },
  );
});
