import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parsePolicy, peakAlive, simulateRecoveryPoints } from '@offline-seed/policy';
import { azureCompatibility } from '@offline-seed/staging-format';
import { FileByteSource } from '@offline-seed/staging-format/node';
import { restoreStagedSnapshot, stageDirectory, verifyStaging } from '../seed/index.ts';
import { compareTrees } from './compare-trees.ts';
import { changeSampleTree, writeSampleTree } from './sample-tree.ts';

export interface DemoOptions {
  /** Work directory (created, kept afterwards); default a temporary one, removed afterwards. */
  dir?: string;
  /** Keep the temporary work directory. */
  keep?: boolean;
  /** Called with one line per step, as it finishes. */
  onStep?: (line: string) => void;
  abortSignal?: AbortSignal;
}

/** What one demo run did, step by step. */
export interface DemoReport {
  workDir: string | undefined;
  sourceBytes: number;
  full: {
    snapshotId: string;
    files: number;
    bytesRead: number;
    bytesStored: number;
    seconds: number;
  };
  volumes: Array<{ file: string; size: number | undefined; azureProblems: number }>;
  incremental: { snapshotId: string; bytesRead: number; bytesStored: number; seconds: number };
  verify: { ok: boolean; blobsChecked: number; seconds: number };
  restore: { files: number; differences: string[]; seconds: number };
  policy: { points: number; peakAlive: number };
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * The offline-seeding flow on sample data, locally: stage a tree (full, then incremental), check
 * the sealed volumes against Azure's page-blob rules, verify the location, restore bit-exact, and
 * preview a retention policy. Drives and the import job come in later releases.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const step = options.onStep ?? (() => {});
  const workDir = options.dir
    ? resolve(options.dir)
    : await mkdtemp(join(tmpdir(), 'offline-seed-demo-'));
  const source = join(workDir, 'source');
  const staging = join(workDir, 'staging');
  const target = join(workDir, 'restored');
  // The demo's own throwaway passphrase: it lives in memory only and is never printed.
  const passphrase = randomBytes(24).toString('base64url');
  const abortSignal = options.abortSignal;
  try {
    await mkdir(source, { recursive: true });
    const sourceBytes = await writeSampleTree(source);
    step(
      `sample data: ${mib(sourceBytes)} of documents, media (one file twice), a disk image, a symlink`,
    );

    const full = await stageDirectory(source, {
      staging,
      passphrase,
      jobName: 'demo-seed',
      abortSignal,
    });
    step(
      `stage (full): ${full.stats.files} files, ${mib(full.stats.bytesRead)} read, ${mib(full.stats.bytesStored)} stored (deduplicated, compressed, encrypted) in ${full.stats.seconds.toFixed(2)} s`,
    );

    const volumes = [];
    for (const volume of full.volumes.filter((v) => v.state === 'sealed')) {
      const file = await FileByteSource.open(join(staging, volume.file));
      try {
        const problems = await azureCompatibility(file, { abortSignal });
        volumes.push({ file: volume.file, size: volume.size, azureProblems: problems.length });
        step(
          `volume ${volume.file}: fixed VHD of ${mib(file.size)}, ${problems.length === 0 ? 'ready for an Azure page blob' : `${problems.length} Azure problems`}`,
        );
      } finally {
        await file.close();
      }
    }

    await changeSampleTree(source);
    const incremental = await stageDirectory(source, { staging, passphrase, abortSignal });
    step(
      `stage (incremental, after a day of changes): ${mib(incremental.stats.bytesRead)} read, ${mib(incremental.stats.bytesStored)} stored in ${incremental.stats.seconds.toFixed(2)} s`,
    );

    const verified = await verifyStaging({ staging, passphrase, abortSignal });
    step(
      `verify: ${verified.ok ? 'every block, record and blob intact' : `${verified.damagedFiles.length} damaged files`} (${verified.blobsChecked} blobs)`,
    );

    const restored = await restoreStagedSnapshot({ staging, target, passphrase, abortSignal });
    const differences = await compareTrees(source, target);
    step(
      `restore: ${restored.stats.files} files in ${restored.seconds.toFixed(2)} s, ${differences.length === 0 ? 'bit-exact (contents, modes, mtimes, symlinks)' : `${differences.length} differences`}`,
    );

    const points = simulateRecoveryPoints(demoPolicy(), {
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2027-01-01T00:00:00Z'),
    });
    const peak = peakAlive(points).count;
    step(
      `policy: a year of nightly backups, 30 daily + 12 monthly kept: ${points.length} points, at most ${peak} alive`,
    );
    step(
      'next (later releases): prep drives with manifests, create the import job, verify the import',
    );

    return {
      workDir: options.dir || options.keep ? workDir : undefined,
      sourceBytes,
      full: {
        snapshotId: full.snapshot.id,
        files: full.stats.files,
        bytesRead: full.stats.bytesRead,
        bytesStored: full.stats.bytesStored,
        seconds: full.stats.seconds,
      },
      volumes,
      incremental: {
        snapshotId: incremental.snapshot.id,
        bytesRead: incremental.stats.bytesRead,
        bytesStored: incremental.stats.bytesStored,
        seconds: incremental.stats.seconds,
      },
      verify: { ok: verified.ok, blobsChecked: verified.blobsChecked, seconds: verified.seconds },
      restore: { files: restored.stats.files, differences, seconds: restored.seconds },
      policy: { points: points.length, peakAlive: peak },
    };
  } finally {
    if (!options.dir && !options.keep) await rm(workDir, { recursive: true, force: true });
  }
}

function demoPolicy() {
  const at = '2026-01-01T22:00:00Z';
  return parsePolicy({
    properties: {
      backupManagementType: 'MAB',
      timeZone: 'UTC',
      schedulePolicy: {
        schedulePolicyType: 'SimpleSchedulePolicy',
        scheduleRunFrequency: 'Daily',
        scheduleRunTimes: [at],
      },
      retentionPolicy: {
        retentionPolicyType: 'LongTermRetentionPolicy',
        dailySchedule: {
          retentionTimes: [at],
          retentionDuration: { count: 30, durationType: 'Days' },
        },
        monthlySchedule: {
          retentionScheduleFormatType: 'Daily',
          retentionScheduleDaily: { daysOfTheMonth: [{ date: 0, isLast: true }] },
          retentionTimes: [at],
          retentionDuration: { count: 12, durationType: 'Months' },
        },
      },
    },
  });
}
