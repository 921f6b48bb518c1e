import { PolicyError } from '../errors.ts';
import { jsonInput } from '../json.ts';
import { addDuration, type CompiledPolicy, compilePolicy } from './compile.ts';
import { type BackupPolicy, type Tier, tiers } from './model.ts';

/** A recovery point that already exists, e.g. from `simulateRecoveryPoints` or the vault. */
export interface ExistingPoint {
  id?: string;
  time: Date;
  /** Tiers it was tagged with when created; empty for on-demand points. */
  tags: Tier[];
  /** Its current expiry; computed from the old policy when absent. */
  expiry?: Date;
  /** On-demand ("Retain Backup Till") points keep their expiry whatever the policy says. */
  onDemand?: boolean;
}

export type PointChange = 'unchanged' | 'extended' | 'shortened' | 'pruned' | 'expired';

/** What a policy change does to one point. */
export interface PointChangeEntry {
  id?: string;
  time: Date;
  tagsBefore: Tier[];
  tagsAfter: Tier[];
  expiryBefore: Date;
  /** For `pruned` points: the change time; Azure deletes them in the next clean-up job. */
  expiryAfter: Date;
  change: PointChange;
  /** The documented rule (or, marked "assumption", this library's reading) that applies. */
  reason: string;
}

export interface PolicyChangePlan {
  at: Date;
  points: PointChangeEntry[];
  /** How many points each kind of change concerns. */
  summary: Record<PointChange, number>;
  /** Points alive at `at` before the change, and after it once the clean-up job has run. */
  alive: { before: number; after: number };
}

export interface PolicyChangeOptions {
  /** When the change is applied; default now. */
  at?: Date;
  /** Time zone for both policies (default each policy's own `timeZone`, else UTC). */
  timeZone?: string;
}

const rules = {
  onDemand: 'on-demand points keep their "retain till" date',
  expired: 'already expired before the change',
  retention: 'retention changes apply to existing points',
  dailyToWeekly: 'schedule changed from daily to weekly: existing daily points are cleaned up',
  weeklyToDaily:
    'schedule changed from weekly to daily: existing weekly points keep the days remaining under the old retention',
  tierRemoved:
    'assumption: a tier removed from the policy no longer keeps its points (Azure documents this only for daily→weekly)',
  noTags: 'not tagged by any tier of the new policy: cleaned up',
} as const;

/**
 * What changing a policy from `oldPolicy` to `newPolicy` does to existing recovery points, by the
 * documented Azure Backup rules: longer retention keeps existing points longer and shorter
 * retention prunes them (in the next clean-up job); existing points keep their tags, so tiers
 * added apply only to later backups; daily→weekly cleans up daily points; weekly→daily keeps
 * weekly points for their remaining days; on-demand points are unaffected. A diff to review
 * before applying a change.
 */
export function planPolicyChange(
  points: readonly ExistingPoint[],
  oldPolicy: BackupPolicy,
  newPolicy: BackupPolicy,
  options: PolicyChangeOptions = {},
): PolicyChangePlan {
  const at = options.at ?? new Date();
  const now = at.getTime();
  const before = compilePolicy(oldPolicy, options.timeZone);
  const after = compilePolicy(newPolicy, options.timeZone);
  const dailyToWeekly = before.frequency !== 'Weekly' && after.frequency === 'Weekly';
  const weeklyToDaily = before.frequency === 'Weekly' && after.frequency !== 'Weekly';
  const summary: Record<PointChange, number> = {
    unchanged: 0,
    extended: 0,
    shortened: 0,
    pruned: 0,
    expired: 0,
  };
  const entries = points.map((point): PointChangeEntry => {
    const expiryBefore = point.expiry?.getTime() ?? expiryUnder(before, point.time, point.tags);
    const base = { id: point.id, time: point.time, tagsBefore: point.tags };
    const entry = (
      tagsAfter: Tier[],
      expiryAfter: number,
      change: PointChange,
      reason: string,
    ): PointChangeEntry => {
      summary[change]++;
      const result = {
        ...base,
        tagsAfter,
        expiryBefore: new Date(expiryBefore),
        expiryAfter: new Date(expiryAfter),
        change,
        reason,
      };
      if (result.id === undefined) delete result.id;
      return result;
    };
    if (point.onDemand) return entry(point.tags, expiryBefore, 'unchanged', rules.onDemand);
    if (expiryBefore <= now) return entry(point.tags, expiryBefore, 'expired', rules.expired);
    const reasons = new Set<string>();
    const tagsAfter: Tier[] = [];
    let expiryAfter = Number.NEGATIVE_INFINITY;
    for (const tag of point.tags) {
      if (tag === 'daily' && dailyToWeekly) {
        reasons.add(rules.dailyToWeekly);
        continue;
      }
      if (tag === 'weekly' && weeklyToDaily) {
        reasons.add(rules.weeklyToDaily);
        tagsAfter.push(tag);
        expiryAfter = Math.max(expiryAfter, expiryUnder(before, point.time, [tag]));
        continue;
      }
      const tier = after.tiers.find((t) => t.tier === tag);
      if (tier === undefined) {
        reasons.add(rules.tierRemoved);
        continue;
      }
      reasons.add(rules.retention);
      tagsAfter.push(tag);
      expiryAfter = Math.max(expiryAfter, expiryUnder(after, point.time, [tag]));
    }
    const reason = [...reasons].join('; ');
    if (tagsAfter.length === 0) return entry([], now, 'pruned', reason || rules.noTags);
    if (expiryAfter <= now) return entry(tagsAfter, now, 'pruned', reason);
    const change =
      expiryAfter > expiryBefore
        ? 'extended'
        : expiryAfter < expiryBefore
          ? 'shortened'
          : 'unchanged';
    return entry(tagsAfter, expiryAfter, change, reason);
  });
  const alive = {
    before: entries.filter((e) => e.expiryBefore.getTime() > now).length,
    after: entries.filter((e) => e.expiryAfter.getTime() > now).length,
  };
  return { at, points: entries, summary, alive };
}

/** A point's expiry under a compiled policy: the latest over the tiers it has there. */
function expiryUnder(policy: CompiledPolicy, time: Date, tags: readonly Tier[]): number {
  const wall = policy.zone.toWall(time.getTime());
  let expiry = time.getTime();
  for (const tag of tags) {
    const tier = policy.tiers.find((t) => t.tier === tag);
    if (tier) expiry = Math.max(expiry, policy.zone.toInstant(addDuration(wall, tier.duration)));
  }
  return expiry;
}

/** Version of the points file format (`{ formatVersion, points: [...] }`) this release writes. */
export const POINTS_FORMAT_VERSION = 1;

/**
 * Reads existing points: a JSON array of `{ id?, time, tags, expiry?, onDemand? }`, or
 * the points file `{ formatVersion: 1, points: [...] }` that `offline-seed policy simulate --json`
 * prints.
 * @throws {PolicyError} `POINTS_MALFORMED` naming the bad entry.
 */
export function parseExistingPoints(input: string | unknown): ExistingPoint[] {
  let value = jsonInput(input, 'POINTS_MALFORMED', 'points');
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'points' in value) {
    const { formatVersion, points } = value as { formatVersion?: unknown; points: unknown };
    if (formatVersion !== undefined && formatVersion !== POINTS_FORMAT_VERSION)
      throw new PolicyError(
        'POINTS_MALFORMED',
        `points file has format version ${JSON.stringify(formatVersion)}; this release reads version ${POINTS_FORMAT_VERSION}`,
        { field: 'formatVersion' },
      );
    value = points;
  }
  if (!Array.isArray(value))
    throw new PolicyError(
      'POINTS_MALFORMED',
      'points must be a JSON array of { time, tags, expiry? }',
    );
  return value.map((raw: unknown, index) => {
    const field = `[${index}]`;
    const bad = (what: string, at = field) =>
      new PolicyError('POINTS_MALFORMED', `${at} ${what}`, { field: at });
    if (typeof raw !== 'object' || raw === null) throw bad('must be an object');
    const { id, time, tags, expiry, onDemand } = raw as Record<string, unknown>;
    const date = (text: unknown, at: string) => {
      const parsed = typeof text === 'string' ? new Date(text) : new Date(Number.NaN);
      if (Number.isNaN(parsed.getTime())) throw bad('must be an ISO 8601 time', at);
      return parsed;
    };
    if (!Array.isArray(tags) || !tags.every((t) => (tiers as readonly unknown[]).includes(t)))
      throw bad(`must list tiers among ${tiers.join(', ')}`, `${field}.tags`);
    if (id !== undefined && typeof id !== 'string') throw bad('must be a string', `${field}.id`);
    const point: ExistingPoint = { time: date(time, `${field}.time`), tags: tags as Tier[] };
    if (id !== undefined) point.id = id;
    if (expiry !== undefined && expiry !== null) point.expiry = date(expiry, `${field}.expiry`);
    if (onDemand === true) point.onDemand = true;
    return point;
  });
}
