import { resolve } from 'node:path';
import type { StoredSnapshot } from '@offline-seed/staging-format';
import type { Command, CommandContext } from '../command.ts';
import { printResult } from '../io.ts';
import { expectPositionals, requiredOption } from '../options.ts';
import { formatBytes } from '../progress.ts';
import { listStagedSnapshots } from '../seed/index.ts';
import { stagingOption } from './staging-options.ts';

async function run(context: CommandContext): Promise<number> {
  expectPositionals(context, [], 'snapshots');
  const staging = resolve(context.io.cwd, requiredOption(context.values, 'staging', 'snapshots'));
  const snapshots: StoredSnapshot[] = [];
  for await (const snapshot of listStagedSnapshots(staging, { abortSignal: context.signal }))
    snapshots.push(snapshot);
  printResult(context.io, context.json, snapshots, renderSnapshots);
  return 0;
}

function numberStat(snapshot: StoredSnapshot, name: string): number | undefined {
  const value = snapshot.stats[name];
  return typeof value === 'number' ? value : undefined;
}

function renderSnapshots(snapshots: StoredSnapshot[]): string {
  if (snapshots.length === 0) return 'no snapshots';
  const rows = snapshots.map((s) => {
    const size = numberStat(s, 'totalBytes');
    const stored = numberStat(s, 'bytesStored');
    return [
      s.id.slice(0, 8),
      s.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      String(numberStat(s, 'files') ?? '?'),
      size === undefined ? '?' : formatBytes(size),
      stored === undefined ? '?' : formatBytes(stored),
      String(numberStat(s, 'newBlobs') ?? '?'),
      s.parentId?.slice(0, 8) ?? '-',
      String(s.volume),
    ];
  });
  const header = ['ID', 'TIME', 'FILES', 'SIZE', 'STORED', 'NEW BLOBS', 'PARENT', 'VOLUME'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i >= 2 && i <= 5 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export const snapshotsCommand: Command = {
  name: 'snapshots',
  summary: 'List the snapshots of a staging location',
  options: { staging: stagingOption },
  details: [
    'SIZE is the bytes of all files in the snapshot, STORED what the run added to the location.',
    'Reads only staging.json: no passphrase needed.',
  ].join('\n'),
  run,
};
