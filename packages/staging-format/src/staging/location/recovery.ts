import { isStagingFormatError, StagingFormatError } from '../../errors.ts';
import { parseUuid } from '../format/bytes.ts';
import { SUPERBLOCK_SIZE } from '../format/constants.ts';
import type { VolumeEntry } from '../format/descriptor.ts';
import { decodeSuperblock } from '../format/superblock.ts';
import { corruptVolumeError, findSyncMarkAfter, scanRecords } from '../reader/scan.ts';
import { VolumeReader } from '../reader/volume-reader.ts';
import type { LocationStore } from '../store/store.ts';
import { StreamHasher, type TransferRange } from '../writer/stream-hasher.ts';
import { VolumeWriter } from '../writer/volume-writer.ts';

/** What opening a location found in its open volume after a crash. */
export interface VolumeRecovery {
  volume: number;
  /**
   * `resumed`: records recovered, writing continues; `recreated`: the file was missing or held no
   * superblock (nothing had been acknowledged); `sealed`: the volume had been sealed completely,
   * only the descriptor had not recorded it.
   */
  outcome: 'resumed' | 'recreated' | 'sealed';
  /** Complete records found. */
  records: number;
  /** Bytes of torn tail dropped (never acknowledged by a flush). */
  droppedBytes: number;
}

export type RecoveredVolume =
  | { outcome: 'resumed' | 'recreated'; writer: VolumeWriter; report: VolumeRecovery }
  | {
      outcome: 'sealed';
      reader: VolumeReader;
      size: number;
      transferRanges: TransferRange[];
      report: VolumeRecovery;
    };

/**
 * Recovers the open volume `entry` of the location `stagingId`: a volume that was sealed is
 * adopted; otherwise its complete records are kept and a torn tail is cut off, unless damage
 * sits before data a flush acknowledged (`VOLUME_CORRUPT`: nothing is cut then).
 */
export async function recoverOpenVolume(
  store: LocationStore,
  stagingId: string,
  entry: VolumeEntry,
  createdAtMs: number,
): Promise<RecoveredVolume> {
  const path = store.pathOf(entry.file);
  const identity = { stagingId: parseUuid(stagingId)!, volumeNumber: entry.number };
  const report = (outcome: VolumeRecovery['outcome'], records: number, droppedBytes: number) => ({
    volume: entry.number,
    outcome,
    records,
    droppedBytes,
  });
  let file = await store.openVolume(entry.file);
  const dropped = file?.size ?? 0;
  const readAt = (offset: number, length: number) => file!.read(offset, length);
  // A volume whose superblock never became durable cannot hold acknowledged data (creating a
  // volume syncs its superblock before any record): start it again. Unless a sync mark says otherwise.
  if (file !== undefined && file.size >= SUPERBLOCK_SIZE) {
    try {
      decodeSuperblockOf(await readAt(0, SUPERBLOCK_SIZE), path, stagingId, entry.number);
    } catch (error) {
      if (!isStagingFormatError(error, 'VOLUME_BAD_SUPERBLOCK')) throw error;
      const markAt = await findSyncMarkAfter(readAt, SUPERBLOCK_SIZE - 1, file.size);
      if (markAt >= 0) throw corruptVolumeError(path, 0, 'damaged superblock', markAt);
      await file.truncate(0);
    }
  }
  if (file === undefined || file.size < SUPERBLOCK_SIZE) {
    await file?.truncate(0);
    file ??= await store.createVolume(entry.file);
    const writer = await VolumeWriter.create(file, path, identity, createdAtMs);
    return { outcome: 'recreated', writer, report: report('recreated', 0, dropped) };
  }

  const sealed = await tryOpenSealed(store, entry, stagingId);
  if (sealed !== undefined) {
    await file.close();
    const hasher = new StreamHasher();
    const size = sealed.source.size;
    for (let at = 0; at < size; at += 4 * 1024 * 1024) {
      hasher.push(await sealed.source.read(at, Math.min(4 * 1024 * 1024, size - at)), {
        blocks: false,
      });
      await hasher.ready();
    }
    return {
      outcome: 'sealed',
      reader: sealed,
      size,
      transferRanges: await hasher.end(),
      report: report('sealed', sealed.recordCount, 0),
    };
  }

  const superblock = await readAt(0, SUPERBLOCK_SIZE);
  let tailBytes = 0;
  const writer = await VolumeWriter.resume(file, path, identity, async (onIntact) => {
    await onIntact(superblock);
    const scan = await scanRecords(readAt, file.size, onIntact);
    if (scan.stopReason !== undefined) {
      const markAt = await findSyncMarkAfter(readAt, scan.end, file.size);
      if (markAt >= 0) throw corruptVolumeError(path, scan.end, scan.stopReason, markAt);
      await file.truncate(scan.end);
    }
    tailBytes = scan.tailBytes;
    return scan.entries;
  });
  return {
    outcome: 'resumed',
    writer,
    report: report('resumed', writer.recordCount, tailBytes),
  };
}

/** Checks that a volume's superblock names this location and number. */
export function decodeSuperblockOf(
  bytes: Uint8Array,
  path: string,
  stagingId: string,
  volumeNumber: number,
) {
  const superblock = decodeSuperblock(bytes, path);
  const expected = parseUuid(stagingId)!;
  if (
    !superblock.stagingId.every((byte, i) => byte === expected[i]) ||
    superblock.volumeNumber !== volumeNumber
  ) {
    throw new StagingFormatError(
      'VOLUME_FOREIGN',
      `${path} belongs to another staging location or has another number (expected volume ${volumeNumber} of ${stagingId})`,
      { path, offset: 0 },
    );
  }
  return superblock;
}

async function tryOpenSealed(store: LocationStore, entry: VolumeEntry, stagingId: string) {
  const source = await store.openSource(entry.file);
  try {
    return await VolumeReader.open(source, {
      path: store.pathOf(entry.file),
      expect: { stagingId, volumeNumber: entry.number },
    });
  } catch (error) {
    await source.close();
    // Not sealed (the usual case after a crash): the caller scans it instead.
    if (isStagingFormatError(error) && /^(VOLUME_|VHD_|SOURCE_OUT_OF_RANGE)/.test(error.code))
      return undefined;
    throw error;
  }
}
