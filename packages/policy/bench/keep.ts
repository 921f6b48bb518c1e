/**
 * Applies restic-style and borg-style keep rules to 10 years of hourly snapshots (87,600) with
 * mixed offsets and tags; prints the times.
 *
 *   node packages/policy/bench/keep.ts
 */
import { applyBorgKeepRules, applyResticKeepRules, type Snapshot } from '../src/index.ts';

const offsets = ['Z', '+01:00', '-05:00', '+05:30'];
const snapshots: Snapshot[] = Array.from({ length: 87_600 }, (_, i) => {
  const utc = Date.UTC(2026, 0, 1) + i * 3_600_000;
  const offset = offsets[i % offsets.length]!;
  const minutes =
    offset === 'Z'
      ? 0
      : (offset[0] === '-' ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4)));
  const local = new Date(utc + minutes * 60_000).toISOString().slice(0, 19);
  return { id: `s${i}`, time: `${local}${offset}`, ...(i % 500 === 0 ? { tags: ['pinned'] } : {}) };
});
const now = new Date('2036-01-01T00:00:00Z');
for (let round = 1; round <= 3; round++) {
  let started = performance.now();
  const restic = applyResticKeepRules(
    snapshots,
    {
      last: 24,
      daily: 30,
      weekly: 12,
      monthly: 24,
      yearly: -1,
      withinDaily: '3m',
      tags: [['pinned']],
    },
    { now },
  );
  const resticMs = performance.now() - started;
  started = performance.now();
  const borg = applyBorgKeepRules(
    snapshots,
    { last: 24, daily: 30, weekly: 12, monthly: 24, yearly: -1 },
    { timeZone: 'Europe/Berlin', now },
  );
  const borgMs = performance.now() - started;
  console.log(
    `round ${round}: ${snapshots.length} snapshots: restic rules keep ${restic.keep.length} in ${resticMs.toFixed(0)} ms, ` +
      `borg rules keep ${borg.keep.length} in ${borgMs.toFixed(0)} ms`,
  );
}
