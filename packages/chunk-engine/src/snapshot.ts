import { toHex } from './bytes.ts';
import { randomBytes } from './crypto/primitives.ts';

/**
 * A committed snapshot, as the engine's caller stores it (staging-format keeps these in its
 * descriptor and in the catalog section of the volume that ends the snapshot).
 */
export interface SnapshotRecord<Stats = Record<string, unknown>> {
  /** Random 16-byte hex id. */
  id: string;
  /** When the snapshot was taken (ISO 8601). */
  time: string;
  /** Hex id of the root tree blob. */
  rootId: string;
  /** Id of the snapshot this one was taken incrementally on. */
  parentId?: string;
  stats: Stats;
}

/** A new {@link SnapshotRecord} for a finished backup, to commit after the sink is flushed. */
export function createSnapshotRecord<Stats>(
  result: { rootId: string; stats: Stats },
  options: { parentId?: string; time?: Date } = {},
): SnapshotRecord<Stats> {
  return {
    id: toHex(randomBytes(16)),
    time: (options.time ?? new Date()).toISOString(),
    rootId: result.rootId,
    ...(options.parentId === undefined ? {} : { parentId: options.parentId }),
    stats: result.stats,
  };
}
