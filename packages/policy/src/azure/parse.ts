import { PolicyError } from '../errors.ts';
import { jsonInput } from '../json.ts';
import {
  type BackupPolicy,
  backupManagementTypes,
  daysOfWeek,
  durationTypes,
  monthsOfYear,
  weeksOfMonth,
} from './model.ts';

/**
 * Reads a backup policy from ARM JSON: the resource (`{ "properties": { … } }`, as `az backup
 * policy show` prints it) or its bare `properties`. Checks the shape (types, enum values, times),
 * not the limits: run {@link validatePolicy} for those. Unknown fields are kept, so
 * {@link serializePolicy} writes back what was read.
 * @throws {PolicyError} `POLICY_MALFORMED` naming the offending field.
 */
export function parsePolicy(input: string | unknown): BackupPolicy {
  const value = jsonInput(input, 'POLICY_MALFORMED', 'policy');
  const root = object(value, '');
  const resource: Record<string, unknown> =
    'properties' in root ? structuredClone(root) : { properties: structuredClone(root) };
  checkProperties(object(resource.properties, 'properties'));
  for (const key of ['id', 'name', 'type'] as const) optional(resource, key, '', string);
  return resource as unknown as BackupPolicy;
}

/** ARM JSON of a policy resource, pretty-printed; {@link parsePolicy} reads it back unchanged. */
export function serializePolicy(policy: BackupPolicy): string {
  return `${JSON.stringify(policy, null, 2)}\n`;
}

type Json = Record<string, unknown>;
type Check<T> = (value: unknown, field: string) => T;

function malformed(field: string, expected: string, value: unknown): PolicyError {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  return new PolicyError('POLICY_MALFORMED', `${field} must be ${expected}, got ${got}`, {
    field,
  });
}

const join = (parent: string, key: string) => (parent === '' ? key : `${parent}.${key}`);

const object: Check<Json> = (value, field) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(field || 'policy', 'an object', value);
  return value as Json;
};

const string: Check<string> = (value, field) => {
  if (typeof value !== 'string') throw malformed(field, 'a string', value);
  return value;
};

const integer: Check<number> = (value, field) => {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw malformed(field, 'an integer', value);
  return value;
};

const boolean: Check<boolean> = (value, field) => {
  if (typeof value !== 'boolean') throw malformed(field, 'true or false', value);
  return value;
};

const oneOf =
  (allowed: readonly string[]): Check<string> =>
  (value, field) => {
    if (typeof value !== 'string' || !allowed.includes(value))
      throw new PolicyError(
        'POLICY_MALFORMED',
        `${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`,
        { field },
      );
    return value;
  };

/** ISO 8601 date-time of which Azure uses the time of day, e.g. `2018-01-24T02:00:00Z`. */
const dateTime: Check<string> = (value, field) => {
  const text = string(value, field);
  if (
    !/^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.test(text)
  )
    throw new PolicyError(
      'POLICY_MALFORMED',
      `${field} must be an ISO 8601 date-time like "2018-01-24T02:00:00Z", got ${JSON.stringify(text)}`,
      { field },
    );
  return text;
};

const arrayOf =
  <T>(item: Check<T>): Check<T[]> =>
  (value, field) => {
    if (!Array.isArray(value)) throw malformed(field, 'an array', value);
    return value.map((element, index) => item(element, `${field}[${index}]`));
  };

function required<T>(parent: Json, key: string, path: string, check: Check<T>): T {
  const field = join(path, key);
  if (parent[key] === undefined) {
    throw new PolicyError('POLICY_MALFORMED', `${field} is missing`, { field });
  }
  return check(parent[key], field);
}

/** Checks `parent[key]` unless it is absent or `null` (ARM writes `null` for unset fields). */
function optional<T>(parent: Json, key: string, path: string, check: Check<T>): T | undefined {
  const value = parent[key];
  return value === undefined || value === null ? undefined : check(value, join(path, key));
}

const retentionDuration: Check<Json> = (value, field) => {
  const duration = object(value, field);
  required(duration, 'count', field, integer);
  required(duration, 'durationType', field, oneOf(durationTypes));
  return duration;
};

const hourlySchedule: Check<Json> = (value, field) => {
  const hourly = object(value, field);
  required(hourly, 'interval', field, integer);
  required(hourly, 'scheduleWindowStartTime', field, dateTime);
  required(hourly, 'scheduleWindowDuration', field, integer);
  return hourly;
};

const runTimes = arrayOf(dateTime);
const weekdays = arrayOf(oneOf(daysOfWeek));

function checkSchedule(schedule: Json, path: string): void {
  const type = required(
    schedule,
    'schedulePolicyType',
    path,
    oneOf(['SimpleSchedulePolicy', 'SimpleSchedulePolicyV2']),
  );
  required(schedule, 'scheduleRunFrequency', path, oneOf(['Daily', 'Weekly', 'Hourly']));
  optional(schedule, 'hourlySchedule', path, hourlySchedule);
  if (type === 'SimpleSchedulePolicy') {
    optional(schedule, 'scheduleRunDays', path, weekdays);
    optional(schedule, 'scheduleRunTimes', path, runTimes);
    optional(schedule, 'scheduleWeeklyFrequency', path, integer);
  } else {
    const daily = optional(schedule, 'dailySchedule', path, object);
    if (daily) required(daily, 'scheduleRunTimes', join(path, 'dailySchedule'), runTimes);
    const weekly = optional(schedule, 'weeklySchedule', path, object);
    if (weekly) {
      required(weekly, 'scheduleRunDays', join(path, 'weeklySchedule'), weekdays);
      required(weekly, 'scheduleRunTimes', join(path, 'weeklySchedule'), runTimes);
    }
  }
}

const day: Check<Json> = (value, field) => {
  const entry = object(value, field);
  required(entry, 'date', field, integer);
  optional(entry, 'isLast', field, boolean);
  return entry;
};

function checkTier(tier: Json, path: string, kind: 'daily' | 'weekly' | 'monthly' | 'yearly') {
  optional(tier, 'retentionTimes', path, runTimes);
  required(tier, 'retentionDuration', path, retentionDuration);
  if (kind === 'weekly') required(tier, 'daysOfTheWeek', path, weekdays);
  if (kind === 'yearly') required(tier, 'monthsOfYear', path, arrayOf(oneOf(monthsOfYear)));
  if (kind === 'monthly' || kind === 'yearly') {
    required(tier, 'retentionScheduleFormatType', path, oneOf(['Daily', 'Weekly']));
    const daily = optional(tier, 'retentionScheduleDaily', path, object);
    if (daily)
      required(daily, 'daysOfTheMonth', join(path, 'retentionScheduleDaily'), arrayOf(day));
    const weekly = optional(tier, 'retentionScheduleWeekly', path, object);
    if (weekly) {
      const weeklyPath = join(path, 'retentionScheduleWeekly');
      required(weekly, 'daysOfTheWeek', weeklyPath, weekdays);
      required(weekly, 'weeksOfTheMonth', weeklyPath, arrayOf(oneOf(weeksOfMonth)));
    }
  }
}

function checkRetention(retention: Json, path: string): void {
  const type = required(
    retention,
    'retentionPolicyType',
    path,
    oneOf(['LongTermRetentionPolicy', 'SimpleRetentionPolicy']),
  );
  if (type === 'SimpleRetentionPolicy') {
    required(retention, 'retentionDuration', path, retentionDuration);
    return;
  }
  for (const kind of ['daily', 'weekly', 'monthly', 'yearly'] as const) {
    const key = `${kind}Schedule`;
    const tier = optional(retention, key, path, object);
    if (tier) checkTier(tier, join(path, key), kind);
  }
}

function checkProperties(properties: Json): void {
  const path = 'properties';
  required(properties, 'backupManagementType', path, oneOf(backupManagementTypes));
  checkSchedule(required(properties, 'schedulePolicy', path, object), join(path, 'schedulePolicy'));
  checkRetention(
    required(properties, 'retentionPolicy', path, object),
    join(path, 'retentionPolicy'),
  );
  optional(properties, 'timeZone', path, string);
  optional(properties, 'instantRpRetentionRangeInDays', path, integer);
  optional(properties, 'policyType', path, oneOf(['V1', 'V2']));
  const vault = optional(properties, 'vaultRetentionPolicy', path, object);
  if (vault) {
    const vaultPath = join(path, 'vaultRetentionPolicy');
    checkRetention(
      required(vault, 'vaultRetention', vaultPath, object),
      join(vaultPath, 'vaultRetention'),
    );
    required(vault, 'snapshotRetentionInDays', vaultPath, integer);
  }
}
