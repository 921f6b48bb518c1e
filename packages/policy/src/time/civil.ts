/**
 * Proleptic Gregorian calendar arithmetic on "wall" milliseconds: a local date and time encoded as
 * if it were UTC (`Date.UTC(y, m - 1, d, h, min, s, ms)`). Time zones convert wall ↔ instant
 * (see `zone.ts`); everything calendar-shaped (weekdays, ISO weeks, month ends) happens here.
 */

/** A calendar date; `month` is 1–12. */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

/** Whole days since 1970-01-01 of a wall time. */
export const dayNumber = (wallMs: number): number => Math.floor(wallMs / MS_PER_DAY);

/** Milliseconds since local midnight of a wall time. */
export const timeOfDay = (wallMs: number): number => wallMs - dayNumber(wallMs) * MS_PER_DAY;

/** The wall time at the start of a calendar date. */
export const wallOf = (date: CivilDate, msOfDay = 0): number =>
  Date.UTC(date.year, date.month - 1, date.day) + msOfDay;

export function civilDate(wallMs: number): CivilDate {
  const d = new Date(wallMs);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export const isLeapYear = (year: number): boolean =>
  (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

const monthLengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export const daysInMonth = (year: number, month: number): number =>
  month === 2 && isLeapYear(year) ? 29 : monthLengths[month - 1]!;

/** 0 = Sunday … 6 = Saturday, as Azure's `DayOfWeek` and JavaScript's `getUTCDay()`. */
export const weekday = (wallMs: number): number => (((dayNumber(wallMs) + 4) % 7) + 7) % 7;

/** ISO 8601 week-numbering year and week (weeks start on Monday; week 1 holds January 4). */
export function isoWeek(wallMs: number): { year: number; week: number } {
  const day = dayNumber(wallMs);
  const isoWeekday = ((weekday(wallMs) + 6) % 7) + 1; // 1 = Monday … 7 = Sunday
  const thursday = day + 4 - isoWeekday; // the week belongs to the year of its Thursday
  const year = new Date(thursday * MS_PER_DAY).getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1) / MS_PER_DAY;
  return { year, week: Math.floor((thursday - jan1) / 7) + 1 };
}

/**
 * Adds calendar months, clamping the day to the target month's last day (Jan 31 + 1 month =
 * Feb 28 or 29), as Azure Backup's month-based expiry and Veeam's GFS flags do; time of day is kept.
 */
export function addMonthsClamped(wallMs: number, months: number): number {
  const { year, month, day } = civilDate(wallMs);
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = index - targetYear * 12 + 1;
  const clampedDay = Math.min(day, daysInMonth(targetYear, targetMonth));
  return wallOf({ year: targetYear, month: targetMonth, day: clampedDay }, timeOfDay(wallMs));
}

/** `YYYY-MM-DD` of a wall time. */
export function formatDate(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 10);
}
