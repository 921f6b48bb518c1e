import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.ts';
import { printResult } from '../io.ts';
import { expectPositionals, requiredOption, stringOption } from '../options.ts';
import { formatBytes, progressBar } from '../progress.ts';
import { type RestoreStagedResult, restoreStagedSnapshot } from '../seed/index.ts';
import { passphraseFileOption, passphraseOf, stagingOption } from './staging-options.ts';

/** What `restore --json` prints. */
export interface RestoreReport {
  snapshotId: string;
  target: string;
  path: string;
  files: number;
  directories: number;
  symlinks: number;
  bytesWritten: number;
  failed: RestoreStagedResult['failed'];
  seconds: number;
}

async function run(context: CommandContext): Promise<number> {
  expectPositionals(context, [], 'restore');
  const staging = resolve(context.io.cwd, requiredOption(context.values, 'staging', 'restore'));
  const target = resolve(context.io.cwd, requiredOption(context.values, 'target', 'restore'));
  const path = stringOption(context.values, 'path') ?? '';
  const bar = progressBar(context.io, 'restore', !context.json);
  let result: RestoreStagedResult;
  try {
    result = await restoreStagedSnapshot({
      staging,
      target,
      snapshot: stringOption(context.values, 'snapshot'),
      path,
      passphrase: await passphraseOf(context),
      overwrite: context.values.overwrite === true,
      onProgress: (progress) => bar.update(progress),
      abortSignal: context.signal,
    });
  } finally {
    bar.finish();
  }
  const { stats } = result;
  const report: RestoreReport = {
    snapshotId: result.snapshot.id,
    target,
    path,
    files: stats.files,
    directories: stats.directories,
    symlinks: stats.symlinks,
    bytesWritten: stats.bytesWritten,
    failed: result.failed,
    seconds: result.seconds,
  };
  for (const failed of result.failed)
    context.io.stderr(`error: not restored ${failed.path}: ${failed.message} (${failed.code})\n`);
  printResult(context.io, context.json, report, (r) =>
    [
      `restored snapshot ${r.snapshotId.slice(0, 8)}${r.path === '' ? '' : ` (${r.path})`} into ${r.target}`,
      `  ${r.files} files, ${r.directories} directories, ${r.symlinks} symlinks, ${formatBytes(r.bytesWritten)} in ${r.seconds.toFixed(1)} s`,
      ...(r.failed.length > 0 ? [`  ${r.failed.length} paths NOT restored (listed above)`] : []),
    ].join('\n'),
  );
  return result.failed.length > 0 ? 1 : 0;
}

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'Restore a snapshot, or part of it, from a staging location',
  options: {
    staging: stagingOption,
    target: { type: 'string', valueName: 'DIR', description: 'Directory to restore into' },
    snapshot: {
      type: 'string',
      valueName: 'ID',
      description: 'Snapshot id, unambiguous id prefix or "latest" (default)',
    },
    path: {
      type: 'string',
      valueName: 'SUBTREE',
      description: 'Restore only this file or directory of the snapshot',
    },
    'passphrase-file': passphraseFileOption,
    overwrite: {
      type: 'boolean',
      description: 'Restore into a non-empty target, replacing files of the same name',
    },
  },
  details: [
    'Restores contents, permission bits, mtimes, symlinks, hard links and empty directories;',
    'all-zero chunks stay holes. Every blob is authenticated: a damaged one fails only its file,',
    'which is named on stderr (exit code 1).',
    '',
    'Example:',
    '  offline-seed restore --staging /mnt/staging --target /srv/restored --path etc --snapshot 4281f722',
  ].join('\n'),
  run,
};
