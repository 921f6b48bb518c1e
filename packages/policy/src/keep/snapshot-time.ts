import { PolicyError } from '../errors.ts';
import { jsonInput } from '../json.ts';
import { MS_PER_MINUTE } from '../time/civil.ts';

/**
 * A snapshot time as restic stores it: an RFC 3339 timestamp whose offset is the creating host's.
 * Calendar buckets use the wall clock in that offset; ordering uses the instant, to the
 * nanosecond.
 */
export interface SnapshotTime {
  /** Instant, whole milliseconds since the epoch. */
  instantMs: number;
  /** Sub-millisecond part in nanoseconds (0–999 999), so restic's ordering is kept exactly. */
  subMsNanos: number;
  /** Wall time in the stored offset (see `civil.ts`). */
  wallMs: number;
  offsetMinutes: number;
}

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp with an offset (`2016-01-18T12:02:03.123456789+01:00`).
 * @throws {PolicyError} `SNAPSHOTS_MALFORMED` naming `field` when it is not one.
 */
export function parseSnapshotTime(text: unknown, field: string): SnapshotTime {
  const match = typeof text === 'string' ? rfc3339.exec(text) : null;
  if (match === null) {
    throw new PolicyError(
      'SNAPSHOTS_MALFORMED',
      `${field} must be an RFC 3339 time with an offset, like "2016-01-18T12:02:03+01:00", got ${JSON.stringify(text)}`,
      { field },
    );
  }
  const [, year, month, day, hour, minute, second, fraction = '', zulu, sign, oh, om] = match;
  const digits = fraction.padEnd(9, '0');
  const wallMs = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    Number(digits.slice(0, 3)),
  );
  const check = new Date(wallMs);
  if (
    check.getUTCDate() !== Number(day) ||
    check.getUTCMonth() !== Number(month) - 1 ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    throw new PolicyError('SNAPSHOTS_MALFORMED', `${field} is not a valid date: ${text}`, {
      field,
    });
  }
  const offsetMinutes = zulu ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return {
    instantMs: wallMs - offsetMinutes * MS_PER_MINUTE,
    subMsNanos: Number(digits.slice(3)),
    wallMs,
    offsetMinutes,
  };
}

/** Newest first, to the nanosecond. */
export function compareNewestFirst(a: SnapshotTime, b: SnapshotTime): number {
  return b.instantMs - a.instantMs || b.subMsNanos - a.subMsNanos;
}

/** A snapshot as the keep rules read it: restic's `[{ id, time, tags }]`. */
export interface Snapshot {
  id: string;
  /** RFC 3339 with the offset of the host that made it. */
  time: string;
  tags?: readonly string[];
  /** The host that made it; with `paths`, what restic groups snapshots by. */
  hostname?: string;
  paths?: readonly string[];
}

/**
 * Reads a snapshot list (`[{ "id", "time", "tags"? }]`, as `restic snapshots --json` prints,
 * extra fields ignored).
 * @throws {PolicyError} `SNAPSHOTS_MALFORMED` naming the bad entry.
 */
export function parseSnapshots(input: string | unknown): Snapshot[] {
  const value = jsonInput(input, 'SNAPSHOTS_MALFORMED', 'snapshots');
  if (!Array.isArray(value))
    throw new PolicyError(
      'SNAPSHOTS_MALFORMED',
      'snapshots must be a JSON array of { id, time, tags? }',
    );
  const seen = new Set<string>();
  return value.map((entry: unknown, index) => {
    const field = `[${index}]`;
    if (typeof entry !== 'object' || entry === null)
      throw new PolicyError('SNAPSHOTS_MALFORMED', `${field} must be an object`, { field });
    const { id, time, tags, hostname, paths } = entry as Record<string, unknown>;
    if (typeof id !== 'string' || id === '')
      throw new PolicyError('SNAPSHOTS_MALFORMED', `${field}.id must be a non-empty string`, {
        field: `${field}.id`,
      });
    if (seen.has(id))
      throw new PolicyError('SNAPSHOTS_MALFORMED', `${field}.id "${id}" appears twice`, {
        field: `${field}.id`,
      });
    seen.add(id);
    parseSnapshotTime(time, `${field}.time`);
    const check = (value: unknown, valid: (v: unknown) => boolean, name: string, what: string) => {
      if (value !== undefined && value !== null && !valid(value))
        throw new PolicyError('SNAPSHOTS_MALFORMED', `${field}.${name} must be ${what}`, {
          field: `${field}.${name}`,
        });
    };
    check(tags, isStringArray, 'tags', 'an array of strings');
    check(hostname, (v) => typeof v === 'string', 'hostname', 'a string');
    check(paths, isStringArray, 'paths', 'an array of strings');
    const snapshot: Snapshot = { id, time: time as string };
    if (isStringArray(tags)) snapshot.tags = tags;
    if (typeof hostname === 'string') snapshot.hostname = hostname;
    if (isStringArray(paths)) snapshot.paths = paths;
    return snapshot;
  });
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');
