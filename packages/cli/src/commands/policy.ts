import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  applyBorgKeepRules,
  applyResticKeepRules,
  type BackupPolicy,
  MAX_RECOVERY_POINTS,
  POINTS_FORMAT_VERSION,
  parseExistingPoints,
  parsePolicy,
  parseSnapshots,
  peakAlive,
  planPolicyChange,
  projectStorage,
  type RecoveryPoint,
  type ResticKeepRules,
  renderRetentionCalendar,
  type SnapshotGroupKey,
  simulateRecoveryPoints,
  tiers,
  validatePolicy,
} from '@offline-seed/policy';
import type { Command, CommandContext, OptionSpec, OptionValues } from '../command.ts';
import type { CliError } from '../errors.ts';
import { printResult } from '../io.ts';
import { expectPositionals, parseSize, stringOption, usage as usageError } from '../options.ts';
import { formatBytes } from '../progress.ts';

const rangeOptions: Record<string, OptionSpec> = {
  from: {
    type: 'string',
    valueName: 'DATE',
    description: 'Start of the range (ISO 8601 date or time, UTC unless an offset is given)',
  },
  to: { type: 'string', valueName: 'DATE', description: 'End of the range, excluded' },
  'time-zone': {
    type: 'string',
    valueName: 'ZONE',
    description:
      "Zone to read the schedule in (IANA or Windows name); default the policy's timeZone, else UTC",
  },
};

async function readText(context: CommandContext, path: string): Promise<string> {
  return readFile(resolve(context.io.cwd, path), 'utf8');
}

async function readPolicy(context: CommandContext, path: string): Promise<BackupPolicy> {
  return parsePolicy(await readText(context, path));
}

/** A usage error of `offline-seed policy <command>`. */
function usage(command: string, message: string): CliError {
  return usageError(`policy ${command}`, message);
}

function dateOption(values: OptionValues, name: string, command: string): Date | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(date.getTime()))
    throw usage(command, `--${name} must be an ISO 8601 date or time, got "${text}"`);
  return date;
}

function requiredDate(values: OptionValues, name: string, command: string): Date {
  const date = dateOption(values, name, command);
  if (date === undefined) throw usage(command, `--${name} DATE is required`);
  return date;
}

/** A compression ratio of 1 or more, e.g. `1.5`. */
function parseRatio(text: string): number {
  const ratio = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || ratio < 1)
    throw usage('simulate', `--compression must be a ratio of 1 or more, e.g. 1.5, got "${text}"`);
  return ratio;
}

/** A fraction from `2%` or `0.02`. */
function parseRate(text: string, command: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (match === null)
    throw usage(command, `--${name} must be a fraction or a percentage, got "${text}"`);
  return Number(match[1]) / (match[2] ? 100 : 1);
}

const iso = (date: Date) => date.toISOString();

const validateCommand: Command = {
  name: 'validate',
  summary: 'Check a backup policy (ARM JSON) against the Azure Backup rules and limits',
  args: 'FILE',
  details: 'Exits 1 when the policy has errors; warnings alone exit 0.',
  async run(context) {
    const [file] = expectPositionals(context, ['FILE'], 'policy validate');
    const issues = validatePolicy(await readPolicy(context, file!));
    const valid = !issues.some((issue) => issue.severity === 'error');
    printResult(context.io, context.json, { valid, issues }, () =>
      issues.length === 0
        ? `${file}: valid`
        : [
            `${file}: ${valid ? 'valid, with warnings' : 'invalid'}`,
            ...issues.map((issue) => `  ${issue.severity}: ${issue.field}: ${issue.message}`),
          ].join('\n'),
    );
    return valid ? 0 : 1;
  },
};

function pointJson(point: RecoveryPoint) {
  return { time: iso(point.time), tags: point.tags, expiry: iso(point.expiry), rule: point.rule };
}

const simulateCommand: Command = {
  name: 'simulate',
  summary: 'List the recovery points a policy creates in a range, with tiers, expiry and counts',
  args: 'FILE',
  options: {
    ...rangeOptions,
    'full-size': {
      type: 'string',
      valueName: 'SIZE',
      description: 'Size of a full backup (bytes, or KiB/MiB/GiB/TiB) to project storage',
    },
    'change-rate': {
      type: 'string',
      valueName: 'RATE',
      description: 'Daily change rate for the projection, e.g. 2% (default 2%)',
    },
    compression: {
      type: 'string',
      valueName: 'RATIO',
      description: 'Compression ratio for the projection, e.g. 1.5 (default 1)',
    },
  },
  details:
    'Exits 1 when more than 9,999 points would be alive at once (the Azure Backup limit).\n' +
    'The JSON output (points file format version 1) can be given to "policy diff --points".',
  async run(context) {
    const [file] = expectPositionals(context, ['FILE'], 'policy simulate');
    const { values } = context;
    const from = requiredDate(values, 'from', 'simulate');
    const to = requiredDate(values, 'to', 'simulate');
    if (to <= from) throw usage('simulate', '--to must be after --from');
    const policy = await readPolicy(context, file!);
    const points = simulateRecoveryPoints(policy, {
      from,
      to,
      timeZone: stringOption(values, 'time-zone'),
    });
    const byTier = Object.fromEntries(
      tiers.map((tier) => [tier, points.filter((p) => p.tags.includes(tier)).length]),
    );
    const peak = peakAlive(points);
    const fullSize = stringOption(values, 'full-size');
    const storage =
      fullSize === undefined
        ? undefined
        : projectStorage(
            points,
            [peak.time ?? to, to].sort((a, b) => a.getTime() - b.getTime()),
            {
              fullSizeBytes: parseSize(fullSize, 'full-size', 'policy simulate'),
              dailyChangeRate: parseRate(
                stringOption(values, 'change-rate') ?? '2%',
                'simulate',
                'change-rate',
              ),
              compressionRatio: parseRatio(stringOption(values, 'compression') ?? '1'),
            },
          );
    const data = {
      formatVersion: POINTS_FORMAT_VERSION,
      from: iso(from),
      to: iso(to),
      points: points.map(pointJson),
      summary: {
        created: points.length,
        byTier,
        peakAlive: peak.count,
        peakAt: peak.time && iso(peak.time),
        limit: MAX_RECOVERY_POINTS,
        withinLimit: peak.count <= MAX_RECOVERY_POINTS,
      },
      ...(storage
        ? { storage: storage.map((s) => ({ time: iso(s.time), points: s.points, bytes: s.bytes })) }
        : {}),
    };
    printResult(context.io, context.json, data, () => {
      const lines = [
        `${points.length} recovery points from ${data.from} to ${data.to}`,
        `  by tier: ${tiers.map((tier) => `${tier} ${byTier[tier]}`).join(', ')}`,
        `  most alive at once: ${peak.count}${peak.time ? ` (first at ${iso(peak.time)})` : ''}; limit ${MAX_RECOVERY_POINTS}${data.summary.withinLimit ? '' : ' EXCEEDED'}`,
      ];
      for (const sample of storage ?? [])
        lines.push(
          `  storage at ${iso(sample.time)}: ${formatBytes(sample.bytes)} for ${sample.points} points`,
        );
      lines.push('', 'time                      tiers                   expires');
      const shown = points.slice(0, 50);
      for (const p of shown)
        lines.push(`${iso(p.time)}  ${p.tags.join('+').padEnd(22)}  ${iso(p.expiry)}`);
      if (points.length > shown.length)
        lines.push(`… ${points.length - shown.length} more (use --json for all)`);
      return lines.join('\n');
    });
    return data.summary.withinLimit ? 0 : 1;
  },
};

const diffCommand: Command = {
  name: 'diff',
  summary: 'Show what changing a policy does to existing recovery points, before applying it',
  args: 'OLD NEW',
  options: {
    points: {
      type: 'string',
      valueName: 'FILE',
      description:
        'Existing points: JSON [{ time, tags, expiry? }] (e.g. from "policy simulate --json")',
    },
    at: {
      type: 'string',
      valueName: 'DATE',
      description: 'When the change is applied (default now)',
    },
    'time-zone': rangeOptions['time-zone']!,
  },
  async run(context) {
    const [oldFile, newFile] = expectPositionals(context, ['OLD', 'NEW'], 'policy diff');
    const pointsFile = stringOption(context.values, 'points');
    if (pointsFile === undefined) throw usage('diff', '--points FILE is required');
    const [oldPolicy, newPolicy, pointsText] = await Promise.all([
      readPolicy(context, oldFile!),
      readPolicy(context, newFile!),
      readText(context, pointsFile),
    ]);
    const plan = planPolicyChange(parseExistingPoints(pointsText), oldPolicy, newPolicy, {
      at: dateOption(context.values, 'at', 'diff'),
      timeZone: stringOption(context.values, 'time-zone'),
    });
    const data = {
      at: iso(plan.at),
      summary: plan.summary,
      alive: plan.alive,
      points: plan.points.map((p) => ({
        ...(p.id === undefined ? {} : { id: p.id }),
        time: iso(p.time),
        change: p.change,
        tagsBefore: p.tagsBefore,
        tagsAfter: p.tagsAfter,
        expiryBefore: iso(p.expiryBefore),
        expiryAfter: iso(p.expiryAfter),
        reason: p.reason,
      })),
    };
    printResult(context.io, context.json, data, () => {
      const marks = { unchanged: ' ', extended: '+', shortened: '-', pruned: 'x', expired: '.' };
      return [
        `policy change at ${data.at}: ${Object.entries(plan.summary)
          .map(([k, n]) => `${n} ${k}`)
          .join(
            ', ',
          )}; ${plan.alive.before} points alive before, ${plan.alive.after} after clean-up`,
        ...plan.points.map(
          (p) =>
            `${marks[p.change]} ${iso(p.time)}  ${(p.tagsBefore.join('+') || 'on-demand').padEnd(20)} ${iso(p.expiryBefore)} -> ${p.change === 'pruned' ? 'pruned at next clean-up' : iso(p.expiryAfter)}  ${p.reason}`,
        ),
        'legend: + extended, - shortened, x pruned, . already expired',
      ].join('\n');
    });
    return 0;
  },
};

const keepCounts = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
const keepWithin = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

const keepOptions: Record<string, OptionSpec> = {
  snapshots: {
    type: 'string',
    valueName: 'FILE',
    description: 'Snapshots: JSON [{ id, time, tags? }] (e.g. restic snapshots --json)',
  },
  ...Object.fromEntries(
    keepCounts.map((name) => [
      `keep-${name}`,
      {
        type: 'string',
        valueName: 'N',
        description: `Keep the ${name === 'last' ? 'last N snapshots' : `last N ${name} snapshots`} ("unlimited" or -1 for all)`,
      } satisfies OptionSpec,
    ]),
  ),
  'keep-within': {
    type: 'string',
    valueName: 'D',
    description: 'Keep snapshots within D (e.g. 1y6m, 7d12h) of the newest',
  },
  ...Object.fromEntries(
    keepWithin.map((name) => [
      `keep-within-${name}`,
      {
        type: 'string',
        valueName: 'D',
        description: `Keep ${name} snapshots within D of the newest`,
      } satisfies OptionSpec,
    ]),
  ),
  'keep-tag': {
    type: 'string',
    multiple: true,
    valueName: 'T[,T…]',
    description: 'Keep snapshots having all these tags ("" = untagged)',
  },
  'group-by': {
    type: 'string',
    valueName: 'KEYS',
    description:
      'Apply the rules per group of host, paths and/or tags (default host,paths; "" for one group)',
  },
  borg: {
    type: 'boolean',
    description: "Apply borg prune's additive rules instead of restic's (within: <int>H|d|w|m|y)",
  },
  'time-zone': {
    type: 'string',
    valueName: 'ZONE',
    description: 'With --borg: the zone of the calendar (default UTC)',
  },
  now: {
    type: 'string',
    valueName: 'DATE',
    description: 'Treat this as the current time (default the clock)',
  },
  'allow-remove-all': { type: 'boolean', description: 'Allow rules that remove every snapshot' },
};

function parseCount(text: string, name: string): number {
  if (text === 'unlimited' || text === '-1') return -1;
  if (!/^\d+$/.test(text))
    throw usage('keep', `--keep-${name} must be a whole number, "unlimited" or -1, got "${text}"`);
  return Number(text);
}

const groupKeys = ['host', 'paths', 'tags'] as const;

function parseGroupBy(text: string): SnapshotGroupKey[] {
  const keys = text
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
  const unknown = keys.find((key) => !(groupKeys as readonly string[]).includes(key));
  if (unknown !== undefined)
    throw usage('keep', `--group-by takes host, paths and tags, got "${unknown}"`);
  return keys as SnapshotGroupKey[];
}

const keepCommand: Command = {
  name: 'keep',
  summary:
    'Decide which snapshots keep rules keep, like restic forget (or borg prune), with reasons',
  options: keepOptions,
  details: 'Prints "keep", "remove" and "reasons"; changes nothing.',
  async run(context) {
    const { values } = context;
    const file = stringOption(values, 'snapshots');
    if (file === undefined) throw usage('keep', '--snapshots FILE is required');
    if (context.positionals.length > 0)
      throw usage('keep', `unexpected argument "${context.positionals[0]}"`);
    const snapshots = parseSnapshots(await readText(context, file));
    const now = dateOption(values, 'now', 'keep');
    const rules: Record<string, number | string | string[][]> = {};
    for (const name of keepCounts) {
      const text = stringOption(values, `keep-${name}`);
      if (text !== undefined) rules[name] = parseCount(text, name);
    }
    const within = stringOption(values, 'keep-within');
    if (within !== undefined) rules.within = within;
    const tagOption = values['keep-tag'];
    const tagSets = (Array.isArray(tagOption) ? tagOption : []).map((t) =>
      String(t)
        .split(',')
        .map((tag) => tag.trim()),
    );
    let data: {
      keep: string[];
      remove: string[];
      reasons: Array<{ id: string; time: string; matches: string[] }>;
    };
    if (values.borg === true) {
      const unsupported = [
        ...keepWithin.map((n) => `keep-within-${n}`),
        'keep-tag',
        'group-by',
      ].find((n) => values[n] !== undefined);
      if (unsupported)
        throw usage('keep', `--${unsupported} is a restic rule; borg has no equivalent`);
      const result = applyBorgKeepRules(snapshots, rules, {
        now,
        timeZone: stringOption(values, 'time-zone'),
      });
      data = {
        keep: result.keep.map((s) => s.id),
        remove: result.remove.map((s) => s.id),
        reasons: result.reasons.map((r) => ({
          id: r.id,
          time: r.time,
          matches: [`${r.rule} #${r.number}`],
        })),
      };
    } else {
      if (values['time-zone'] !== undefined)
        throw usage(
          'keep',
          "--time-zone applies to --borg: restic reads each snapshot's own offset",
        );
      for (const name of keepWithin) {
        const text = stringOption(values, `keep-within-${name}`);
        if (text !== undefined) rules[`within${name[0]!.toUpperCase()}${name.slice(1)}`] = text;
      }
      if (tagSets.length > 0) rules.tags = tagSets;
      const result = applyResticKeepRules(snapshots, rules as ResticKeepRules, {
        now,
        allowRemoveAll: values['allow-remove-all'] === true,
        groupBy: parseGroupBy(stringOption(values, 'group-by') ?? 'host,paths'),
      });
      data = {
        keep: result.keep.map((s) => s.id),
        remove: result.remove.map((s) => s.id),
        reasons: result.reasons,
      };
    }
    printResult(context.io, context.json, data, () => {
      const reasons = new Map(data.reasons.map((r) => [r.id, r]));
      const times = new Map(snapshots.map((s) => [s.id, s.time]));
      return [
        `keep ${data.keep.length}, remove ${data.remove.length}`,
        ...data.keep.map(
          (id) => `keep    ${id}  ${times.get(id)}  ${reasons.get(id)!.matches.join(', ')}`,
        ),
        ...data.remove.map((id) => `remove  ${id}  ${times.get(id)}`),
      ].join('\n');
    });
    return 0;
  },
};

const renderCommand: Command = {
  name: 'render',
  summary: 'Draw a retention calendar (SVG): each recovery point from creation to expiry, by tier',
  args: 'FILE',
  options: {
    svg: { type: 'string', valueName: 'OUT', description: 'Where to write the SVG' },
    ...rangeOptions,
    width: { type: 'string', valueName: 'PX', description: 'Width in pixels (default 1000)' },
  },
  details: 'Without --from/--to the range is the year from today (UTC midnight).',
  async run(context) {
    const { values } = context;
    const [file] = expectPositionals(context, ['FILE'], 'policy render');
    const out = stringOption(values, 'svg');
    if (out === undefined) throw usage('render', '--svg OUT is required');
    const policy = await readPolicy(context, file!);
    const today = new Date(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const from = dateOption(values, 'from', 'render') ?? today;
    const to =
      dateOption(values, 'to', 'render') ??
      new Date(Date.UTC(from.getUTCFullYear() + 1, from.getUTCMonth(), from.getUTCDate()));
    if (to <= from) throw usage('render', '--to must be after --from');
    const width = Number(stringOption(values, 'width') ?? '1000');
    if (!Number.isInteger(width) || width < 300 || width > 20000)
      throw usage('render', '--width must be 300 to 20000 pixels');
    const points = simulateRecoveryPoints(policy, {
      from,
      to,
      timeZone: stringOption(values, 'time-zone'),
    });
    const title = `Retention calendar: ${policy.name ?? file}`;
    const svg = renderRetentionCalendar(points, { from, width, title });
    // Write beside the target and rename, so an existing file is never left half-written.
    const target = resolve(context.io.cwd, out);
    const temporary = `${target}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, svg, { flag: 'wx' });
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    printResult(
      context.io,
      context.json,
      { svg: out, points: points.length, bytes: svg.length },
      (d) => `wrote ${d.svg}: ${d.points} recovery points, ${formatBytes(d.bytes)}`,
    );
    return 0;
  },
};

export const policyCommand: Command = {
  name: 'policy',
  summary: 'Validate, simulate and compare backup retention policies',
  subcommands: [validateCommand, simulateCommand, diffCommand, keepCommand, renderCommand],
};
