import { aliveTimeline } from '../azure/counts.ts';
import { type Tier, tiers } from '../azure/model.ts';

/** What the calendar draws of a point: when it was made, when it expires, and its tier. */
export interface CalendarPoint {
  time: Date;
  expiry: Date;
  /** The tier that sets its expiry; the point is drawn in that tier's lane. */
  rule: Tier;
  tags?: readonly Tier[];
}

export interface CalendarOptions {
  /** Start of the time axis; default the first point. */
  from?: Date;
  /** End of the time axis; default the last expiry. Bars running past it are cut at the edge. */
  to?: Date;
  /** Width in pixels; default 1000. */
  width?: number;
  title?: string;
}

const colors: Record<Tier, string> = {
  daily: '#4e79a7',
  weekly: '#59a14f',
  monthly: '#f28e2b',
  yearly: '#e15759',
};

// Below this many points every bar gets its own element and tooltip; above, one path per lane.
const tooltipLimit = 2000;
const laneMaxHeight = 140;
const margin = { left: 90, right: 20, top: 56 };
const countHeight = 80;

/**
 * Renders a retention calendar as a self-contained SVG: one lane per tier, each recovery point a
 * bar from its creation to its expiry (stacked so that bars alive at once sit on separate rows),
 * a step chart of the distinct points alive, a time axis and a legend.
 * @throws {RangeError} When the axis range is empty or the width is not positive.
 */
export function renderRetentionCalendar(
  points: readonly CalendarPoint[],
  options: CalendarOptions = {},
): string {
  const width = options.width ?? 1000;
  if (!(width > margin.left + margin.right + 100)) throw new RangeError('width is too small');
  const start =
    options.from?.getTime() ?? Math.min(...points.map((p) => p.time.getTime()), Date.now());
  const end =
    options.to?.getTime() ?? Math.max(...points.map((p) => p.expiry.getTime()), start + 86_400_000);
  if (!(end > start)) throw new RangeError('"to" must be after "from"');
  const plotWidth = width - margin.left - margin.right;
  const x = (time: number) =>
    margin.left + (Math.min(Math.max(time, start), end) - start) * (plotWidth / (end - start));
  const visible = points.filter((p) => p.expiry.getTime() > start && p.time.getTime() < end);
  const parts: string[] = [];
  let y = margin.top;
  const laneSummaries: string[] = [];
  for (const tier of tiers) {
    const lane = visible
      .filter((p) => p.rule === tier)
      .sort((a, b) => a.time.getTime() - b.time.getTime());
    if (lane.length === 0) continue;
    const rows = assignRows(lane);
    const rowCount = Math.max(...rows) + 1;
    const rowHeight = Math.max(0.5, Math.min(8, laneMaxHeight / rowCount));
    const laneHeight = rowHeight * rowCount + 8;
    laneSummaries.push(`${lane.length} ${tier}`);
    parts.push(
      `<text x="${margin.left - 8}" y="${y + laneHeight / 2 + 4}" text-anchor="end" class="lane">${tier}</text>`,
      `<rect x="${margin.left}" y="${y}" width="${plotWidth}" height="${laneHeight}" class="band"/>`,
    );
    const barHeight = Math.max(0.5, rowHeight * 0.75);
    if (visible.length <= tooltipLimit) {
      parts.push(`<g fill="${colors[tier]}">`);
      lane.forEach((point, i) => {
        const left = x(point.time.getTime());
        const barWidth = Math.max(1, x(point.expiry.getTime()) - left);
        const top = y + 4 + rows[i]! * rowHeight;
        const tags = (point.tags ?? [point.rule]).join(', ');
        parts.push(
          `<rect x="${fixed(left)}" y="${fixed(top)}" width="${fixed(barWidth)}" height="${fixed(barHeight)}"><title>${iso(point.time)} → ${iso(point.expiry)} (${tags})</title></rect>`,
        );
      });
      parts.push('</g>');
    } else {
      const path = lane
        .map((point, i) => {
          const left = x(point.time.getTime());
          const top = y + 4 + rows[i]! * rowHeight + barHeight / 2;
          return `M${fixed(left)} ${fixed(top)}h${fixed(Math.max(1, x(point.expiry.getTime()) - left))}`;
        })
        .join('');
      parts.push(
        `<path d="${path}" stroke="${colors[tier]}" stroke-width="${fixed(barHeight)}" fill="none"><title>${lane.length} ${tier} points</title></path>`,
      );
    }
    y += laneHeight + 6;
  }

  // Distinct points alive over time, as a step chart under the lanes.
  const steps = aliveTimeline(points);
  const peak = Math.max(1, ...steps.map((s) => s.count));
  const chartTop = y + 10;
  const baseline = chartTop + countHeight;
  let line = `M${margin.left} ${baseline}`;
  let level = 0;
  for (const step of steps) {
    const time = step.time.getTime();
    if (time > end) break;
    const stepY = baseline - (step.count / peak) * countHeight;
    if (time >= start)
      line += `H${fixed(x(time))}V${fixed(baseline - (level / peak) * countHeight)}`;
    line += `V${fixed(stepY)}`;
    level = step.count;
  }
  line += `H${margin.left + plotWidth}`;
  parts.push(
    `<text x="${margin.left - 8}" y="${chartTop + 12}" text-anchor="end" class="lane">alive</text>`,
    `<text x="${margin.left - 8}" y="${chartTop + 26}" text-anchor="end" class="note">peak ${peak}</text>`,
    `<path d="${line}" fill="none" stroke="#333" stroke-width="1.2"/>`,
    `<line x1="${margin.left}" y1="${baseline}" x2="${margin.left + plotWidth}" y2="${baseline}" stroke="#999"/>`,
  );

  const axisY = baseline + 4;
  for (const tick of axisTicks(start, end)) {
    const tickX = fixed(x(tick.time));
    const anchor = tickX > width - margin.right - 24 ? 'end' : 'middle';
    parts.push(
      `<line x1="${tickX}" y1="${margin.top - 4}" x2="${tickX}" y2="${axisY + 4}" class="grid"/>`,
      `<text x="${tickX}" y="${axisY + 18}" text-anchor="${anchor}" class="tick">${tick.label}</text>`,
    );
  }

  const height = axisY + 56;
  const legend = tiers
    .map((tier, i) => {
      const legendX = margin.left + i * 110;
      return `<rect x="${legendX}" y="${height - 22}" width="12" height="12" fill="${colors[tier]}"/><text x="${legendX + 18}" y="${height - 12}" class="tick">${tier}</text>`;
    })
    .join('');
  const title = escapeXml(options.title ?? 'Retention calendar');
  const subtitle = `${iso(new Date(start))} to ${iso(new Date(end))}: ${laneSummaries.join(', ') || 'no points'}; bars run from backup to expiry`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${fixed(height)}" viewBox="0 0 ${width} ${fixed(height)}" font-family="system-ui, sans-serif">`,
    '<style>.lane{font-size:13px;fill:#222}.tick{font-size:11px;fill:#444}.note{font-size:10px;fill:#666}.band{fill:#f4f4f4}.grid{stroke:#ddd;stroke-width:1}</style>',
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${margin.left}" y="22" font-size="16" font-weight="600">${title}</text>`,
    `<text x="${margin.left}" y="40" class="note">${escapeXml(subtitle)}</text>`,
    ...parts,
    legend,
    `<text x="${margin.left + 4 * 110}" y="${height - 12}" class="note">bar: one recovery point, from backup to expiry; line: distinct points alive</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** Greedy row assignment: each point takes the first row whose last bar has expired. */
function assignRows(lane: readonly CalendarPoint[]): number[] {
  const rowEnds: number[] = [];
  return lane.map((point) => {
    const time = point.time.getTime();
    let row = rowEnds.findIndex((rowEnd) => rowEnd <= time);
    if (row === -1) row = rowEnds.push(0) - 1;
    rowEnds[row] = point.expiry.getTime();
    return row;
  });
}

/** Week ticks up to two months, month ticks (every 1–3) up to three years, then years (≤ 12 labels). */
function axisTicks(start: number, end: number): Array<{ time: number; label: string }> {
  const ticks: Array<{ time: number; label: string }> = [];
  const first = new Date(start);
  const days = (end - start) / 86_400_000;
  if (days <= 62) {
    for (
      let t = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate());
      t <= end;
      t += 7 * 86_400_000
    )
      if (t >= start) ticks.push({ time: t, label: iso(new Date(t)).slice(5) });
    return ticks;
  }
  if (days <= 1100) {
    const step = days <= 400 ? 1 : days <= 760 ? 2 : 3;
    for (let m = first.getUTCFullYear() * 12 + first.getUTCMonth(); ; m += step) {
      const t = Date.UTC(Math.floor(m / 12), m % 12, 1);
      if (t > end) break;
      if (t >= start) ticks.push({ time: t, label: iso(new Date(t)).slice(0, 7) });
    }
    return ticks;
  }
  const years = Math.ceil(days / 365 / 12);
  for (let year = first.getUTCFullYear() + 1; ; year += years) {
    const t = Date.UTC(year, 0, 1);
    if (t > end) break;
    ticks.push({ time: t, label: String(year) });
  }
  return ticks;
}

const iso = (date: Date) => date.toISOString().slice(0, 10);
const fixed = (n: number) => Number(n.toFixed(2));

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
