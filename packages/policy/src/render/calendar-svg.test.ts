import { describe, expect, it } from 'vitest';
import { marsPolicy } from '../../test/policies.ts';
import { simulateRecoveryPoints } from '../azure/simulate.ts';
import { renderRetentionCalendar } from './calendar-svg.ts';

describe('renderRetentionCalendar', () => {
  const points = simulateRecoveryPoints(marsPolicy(), {
    from: new Date('2026-01-01'),
    to: new Date('2027-01-01'),
  });

  it('draws a lane per tier, a bar per point with a tooltip, an axis and a legend', () => {
    const svg = renderRetentionCalendar(points, { title: 'MARS <nightly>' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const tier of ['daily', 'weekly', 'monthly', 'yearly'])
      expect(svg).toContain(`>${tier}</text>`);
    expect(
      svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+"><title>/g)!.length,
    ).toBe(points.length);
    expect(svg).toContain('MARS &#60;nightly&#62;');
    expect(svg).toMatch(/>2027<\/text>|>2027-01<\/text>/);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('switches to one path per lane for large sets', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({
      time: new Date(Date.UTC(2026, 0, 1, i)),
      expiry: new Date(Date.UTC(2026, 0, 8, i)),
      rule: 'daily' as const,
    }));
    const svg = renderRetentionCalendar(many);
    expect(svg).toContain('<title>3000 daily points</title>');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('rejects an empty range and a tiny width', () => {
    expect(() =>
      renderRetentionCalendar(points, { from: new Date('2026-02-01'), to: new Date('2026-01-01') }),
    ).toThrow(RangeError);
    expect(() => renderRetentionCalendar(points, { width: 10 })).toThrow(RangeError);
  });
});
