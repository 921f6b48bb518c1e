import { resolve } from 'node:path';
import type { Command, CommandContext } from '../command.ts';
import { printResult } from '../io.ts';
import {
  expectPositionals,
  integerOption,
  parseSize,
  requiredOption,
  stringOption,
} from '../options.ts';
import { formatBytes, progressBar } from '../progress.ts';
import { type StageResult, stageDirectory } from '../seed/index.ts';
import { passphraseFileOption, passphraseOf, stagingOption } from './staging-options.ts';

/** What `stage --json` prints. */
export interface StageReport {
  snapshotId: string;
  parentId: string | null;
  files: number;
  unchangedFiles: number;
  bytesRead: number;
  bytesUnchanged: number;
  bytesStored: number;
  /** New blobs stored (file chunks and catalog pages). */
  newChunks: number;
  /** Blobs found already stored. */
  dedupedChunks: number;
  /** Volumes of the location after the run. */
  volumes: number;
  seconds: number;
  created: boolean;
  stagingId: string;
  skipped: StageResult['skipped'];
}

/** Exit code when the snapshot was committed but some paths could not be read (as restic). */
export const incompleteExitCode = 3;

async function run(context: CommandContext): Promise<number> {
  expectPositionals(context, ['SOURCE'], 'stage');
  const staging = requiredOption(context.values, 'staging', 'stage');
  const maxVolumeSize = stringOption(context.values, 'max-volume-size');
  const integer = (name: string, range: readonly [number, number]) =>
    integerOption(context.values, name, 'stage', range);
  const compressionLevel = integer('compression-level', [1, 19]);
  const workers = integer('workers', [0, 256]);
  const concurrency = integer('concurrency', [1, 256]);
  const bar = progressBar(context.io, 'stage', !context.json);
  let result: StageResult;
  try {
    result = await stageDirectory(resolve(context.io.cwd, context.positionals[0]!), {
      staging: resolve(context.io.cwd, staging),
      passphrase: await passphraseOf(context),
      unencrypted: context.values['no-encryption'] === true,
      jobName: stringOption(context.values, 'job-name'),
      maxVolumeSize:
        maxVolumeSize === undefined
          ? undefined
          : parseSize(maxVolumeSize, 'max-volume-size', 'stage'),
      compressionLevel,
      workers,
      concurrency,
      // Without a bar, no listener: the run then skips sizing the source for it.
      onProgress: bar.active ? (progress) => bar.update(progress) : undefined,
      abortSignal: context.signal,
    });
  } finally {
    bar.finish();
  }
  const { stats, snapshot } = result;
  const report: StageReport = {
    snapshotId: snapshot.id,
    parentId: snapshot.parentId ?? null,
    files: stats.files,
    unchangedFiles: stats.unchangedFiles,
    bytesRead: stats.bytesRead,
    bytesUnchanged: stats.bytesUnchanged,
    bytesStored: stats.bytesStored,
    newChunks: stats.newBlobs,
    dedupedChunks: stats.duplicateBlobs,
    volumes: result.volumes.length,
    seconds: stats.seconds,
    created: result.created,
    stagingId: result.stagingId,
    skipped: result.skipped,
  };
  if (compressionLevel !== undefined && !result.created)
    context.io.stderr(
      `note: --compression-level applies when a location is created; ${staging} keeps its own\n`,
    );
  if (result.brokenLock !== undefined)
    context.io.stderr(
      `note: broke the stale lock of process ${result.brokenLock.pid} (an interrupted run)\n`,
    );
  if (result.recovery !== undefined && result.recovery.records > 0)
    context.io.stderr(
      `note: resumed volume ${result.recovery.volume}: ${result.recovery.records} blobs of an interrupted run reused\n`,
    );
  for (const skipped of result.skipped.slice(0, 20))
    context.io.stderr(`warning: skipped ${skipped.path}: ${skipped.message} (${skipped.code})\n`);
  if (result.skipped.length > 20)
    context.io.stderr(
      `warning: … and ${result.skipped.length - 20} more skipped paths (see --json)\n`,
    );
  printResult(context.io, context.json, report, renderStage);
  return result.skipped.length > 0 ? incompleteExitCode : 0;
}

function renderStage(r: StageReport): string {
  const kind = r.parentId === null ? 'full' : `incremental on ${r.parentId.slice(0, 8)}`;
  return [
    `snapshot ${r.snapshotId.slice(0, 8)} (${kind})${r.created ? ', new staging location' : ''}`,
    `  files      ${r.files} (${r.unchangedFiles} unchanged, ${r.skipped.length} skipped)`,
    `  read       ${formatBytes(r.bytesRead)} (${formatBytes(r.bytesUnchanged)} unchanged, not read)`,
    `  stored     ${formatBytes(r.bytesStored)} in ${r.newChunks} new blobs (${r.dedupedChunks} already stored)`,
    `  volumes    ${r.volumes}`,
    `  time       ${r.seconds.toFixed(1)} s`,
  ].join('\n');
}

export const stageCommand: Command = {
  name: 'stage',
  summary: 'Back up a directory into a staging location (full, then incremental)',
  args: 'SOURCE',
  options: {
    staging: stagingOption,
    'job-name': {
      type: 'string',
      valueName: 'NAME',
      description: 'Import job name, when creating the location (default: its directory name)',
    },
    'passphrase-file': passphraseFileOption,
    'no-encryption': {
      type: 'boolean',
      description: 'Create the location unencrypted (no passphrase needed)',
    },
    'max-volume-size': {
      type: 'string',
      valueName: 'SIZE',
      description: 'Largest volume file, when creating the location (default 1 TiB)',
    },
    'compression-level': {
      type: 'string',
      valueName: 'N',
      description: 'zstd level 1–19, when creating the location (default 3; 1: faster, larger)',
    },
    workers: {
      type: 'string',
      valueName: 'N',
      description: 'Threads that compress and encrypt (default: one per core; 0: none)',
    },
    concurrency: {
      type: 'string',
      valueName: 'N',
      description: 'Files read at the same time (default 8)',
    },
  },
  details: [
    'The first run creates the location (encrypted with the passphrase unless --no-encryption)',
    'and stores everything; later runs store an incremental snapshot on the latest one of the',
    'same SOURCE: unchanged files are not read again, known chunks not stored again.',
    'Ctrl-C or a kill keeps what was stored; the next run reuses it. Exit code 3: the snapshot',
    'was committed but some paths could not be read (listed on stderr and in --json).',
    '',
    'Example:',
    '  OFFLINE_SEED_PASSPHRASE=… offline-seed stage /srv/data --staging /mnt/staging --json',
  ].join('\n'),
  run,
};
