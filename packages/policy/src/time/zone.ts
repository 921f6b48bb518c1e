import { PolicyError } from '../errors.ts';
import { MS_PER_DAY, MS_PER_MINUTE } from './civil.ts';
import { windowsToIana } from './windows-zones.ts';

/**
 * A time zone that converts between instants (epoch milliseconds) and wall times (local date and
 * time encoded as UTC milliseconds, see `civil.ts`).
 *
 * Wall times that do not exist (the hour skipped when clocks spring forward) resolve to the same
 * wall time read with the offset in force before the gap, which lands just after it: 02:30 on a
 * New York spring-forward day is 03:30 EDT. Wall times that occur twice (clocks fall back) resolve
 * to the earlier instant, so a schedule runs once. This is Temporal's `"compatible"` choice.
 */
export interface TimeZone {
  /** The IANA zone the name resolved to. */
  readonly id: string;
  /** The name as given, e.g. `"Pacific Standard Time"`. */
  readonly name: string;
  /** Offset from UTC in minutes at `instantMs` (positive east of Greenwich). */
  offsetAt(instantMs: number): number;
  toWall(instantMs: number): number;
  toInstant(wallMs: number): number;
}

const lowerCaseWindows = new Map(
  Object.entries(windowsToIana).map(([windows, iana]) => [windows.toLowerCase(), iana]),
);

/**
 * The IANA id for a time zone name: a Windows id as Azure policies carry (`"W. Europe Standard
 * Time"`, any letter case) or an IANA name the platform's `Intl` knows.
 * @throws {PolicyError} `UNKNOWN_TIME_ZONE` when the name is neither.
 */
export function resolveTimeZoneName(name: string, field?: string): string {
  const windows = lowerCaseWindows.get(name.trim().toLowerCase());
  if (windows !== undefined) return windows;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name.trim() }).resolvedOptions().timeZone;
  } catch (cause) {
    throw new PolicyError(
      'UNKNOWN_TIME_ZONE',
      `unknown time zone "${name}": use an IANA name (e.g. "Europe/Berlin") or a Windows id (e.g. "W. Europe Standard Time")`,
      { field, cause },
    );
  }
}

const zoneCache = new Map<string, TimeZone>();

/**
 * A {@link TimeZone} for an IANA or Windows name (default UTC).
 * @throws {PolicyError} `UNKNOWN_TIME_ZONE`.
 */
export function timeZone(name = 'UTC', field?: string): TimeZone {
  let zone = zoneCache.get(name);
  if (zone === undefined) {
    zone = createZone(name, resolveTimeZoneName(name, field));
    zoneCache.set(name, zone);
  }
  return zone;
}

interface DayOffsets {
  /** Offset at the start of the UTC day. */
  before: number;
  /** Offset at the end of the UTC day; differs from `before` only on transition days. */
  after: number;
  /** First instant of the day with offset `after`. */
  transitionMs: number;
}

function createZone(name: string, id: string): TimeZone {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: id,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const exactOffset = (instantMs: number): number => {
    const seconds = Math.floor(instantMs / 1000) * 1000;
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(seconds)) parts[part.type] = Number(part.value);
    const wall = Date.UTC(
      parts.year!,
      parts.month! - 1,
      parts.day!,
      parts.hour!,
      parts.minute!,
      parts.second!,
    );
    return Math.round((wall - seconds) / MS_PER_MINUTE);
  };
  // Intl is slow (microseconds a call) and simulations convert ~10^5 instants, so offsets are
  // cached per UTC day: one Intl call at each day's start, and a day whose start and end differ
  // holds one transition, found by bisection to the second. No zone in the tz database changes
  // offset twice within one UTC day since 1970.
  const dayStarts = new Map<number, number>();
  const startOffset = (day: number): number => {
    let offset = dayStarts.get(day);
    if (offset === undefined) {
      offset = exactOffset(day * MS_PER_DAY);
      dayStarts.set(day, offset);
    }
    return offset;
  };
  const days = new Map<number, DayOffsets>();
  const dayOffsets = (day: number): DayOffsets => {
    let entry = days.get(day);
    if (entry === undefined) {
      const start = day * MS_PER_DAY;
      const before = startOffset(day);
      const after = startOffset(day + 1);
      let low = start; // offset `before`
      let high = start + MS_PER_DAY; // offset `after`
      if (before !== after) {
        while (high - low > 1000) {
          const mid = low + Math.floor((high - low) / 2000) * 1000;
          if (exactOffset(mid) === before) low = mid;
          else high = mid;
        }
      }
      entry = { before, after, transitionMs: high };
      days.set(day, entry);
    }
    return entry;
  };
  const offsetAt = (instantMs: number): number => {
    const entry = dayOffsets(Math.floor(instantMs / MS_PER_DAY));
    return instantMs < entry.transitionMs ? entry.before : entry.after;
  };
  if (id === 'UTC' || id === 'Etc/UTC') {
    return { id, name, offsetAt: () => 0, toWall: (ms) => ms, toInstant: (ms) => ms };
  }
  return {
    id,
    name,
    offsetAt,
    toWall: (instantMs) => instantMs + offsetAt(instantMs) * MS_PER_MINUTE,
    toInstant(wallMs) {
      // The offsets in force a day either side bracket any transition near this wall time.
      const early = offsetAt(wallMs - MS_PER_DAY);
      const late = offsetAt(wallMs + MS_PER_DAY);
      if (early === late && offsetAt(wallMs - early * MS_PER_MINUTE) === early)
        return wallMs - early * MS_PER_MINUTE; // no transition nearby: the common case
      const first = wallMs - early * MS_PER_MINUTE;
      const second = wallMs - late * MS_PER_MINUTE;
      const firstValid = offsetAt(first) === early;
      const secondValid = offsetAt(second) === late;
      if (firstValid && secondValid) return Math.min(first, second); // overlap: earlier instant
      if (firstValid) return first;
      if (secondValid) return second;
      return first; // gap: read with the offset before it, landing after the gap
    },
  };
}
