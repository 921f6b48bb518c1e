import { StagingFormatError } from '../../errors.ts';
import { compareBytes, readSafeU64, viewOf, writeU64 } from './bytes.ts';
import { BLOB_ID_SIZE, INDEX_ENTRY_SIZE, RecordType } from './constants.ts';
import type { SnapshotRecord } from './descriptor.ts';
import type { Section } from './trailer.ts';

/** Where one blob's record sits in its volume. */
export interface IndexEntry {
  id: Uint8Array;
  /** Offset of the record header. */
  offset: number;
  storedLength: number;
  type: 'data' | 'tree';
}

// Entry layout (big-endian, 48 bytes): 0 id[32] | 32 record offset u64 | 40 stored length u32 |
// 44 type u8 | 45..47 zero. Entries are sorted by id, ids unique.

/** Encodes entries sorted by id (sorts a copy; the caller's order does not matter). */
export function encodeIndex(entries: readonly IndexEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => compareBytes(a.id, b.id));
  const out = new Uint8Array(sorted.length * INDEX_ENTRY_SIZE);
  const view = viewOf(out);
  sorted.forEach((entry, i) => {
    const at = i * INDEX_ENTRY_SIZE;
    out.set(entry.id, at);
    writeU64(view, at + 32, entry.offset);
    view.setUint32(at + 40, entry.storedLength);
    view.setUint8(at + 44, RecordType[entry.type]);
  });
  return out;
}

/**
 * A decoded, validated index section: binary search over the raw bytes, so a sealed volume's
 * index costs its 48 bytes per entry and nothing more.
 */
export class VolumeIndex {
  readonly count: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  /**
   * Validates every entry: sorted, unique, each record inside [`recordsStart`, `recordsEnd`).
   * @throws {StagingFormatError} `VOLUME_BAD_INDEX` naming the entry's offset in the volume.
   */
  constructor(bytes: Uint8Array, section: Section, recordsStart: number, path?: string) {
    this.#bytes = bytes;
    this.#view = viewOf(bytes);
    this.count = bytes.length / INDEX_ENTRY_SIZE;
    for (let i = 0; i < this.count; i++) {
      const at = i * INDEX_ENTRY_SIZE;
      const entry = this.entry(i);
      const problem =
        i > 0 &&
        compareBytes(
          bytes.subarray(at - INDEX_ENTRY_SIZE, at),
          bytes.subarray(at, at + BLOB_ID_SIZE),
        ) >= 0
          ? 'ids are not sorted and unique'
          : this.#view.getUint8(at + 44) !== RecordType.data &&
              this.#view.getUint8(at + 44) !== RecordType.tree
            ? 'unknown blob type'
            : !(entry.offset >= recordsStart && entry.offset + entry.storedLength <= section.offset)
              ? 'record outside the record area'
              : undefined;
      if (problem !== undefined) {
        throw new StagingFormatError(
          'VOLUME_BAD_INDEX',
          `${path ?? 'volume'}: index entry ${i}: ${problem}`,
          {
            offset: section.offset + at,
            ...(path === undefined ? {} : { path }),
          },
        );
      }
    }
  }

  entry(i: number): IndexEntry {
    const at = i * INDEX_ENTRY_SIZE;
    return {
      id: this.#bytes.slice(at, at + BLOB_ID_SIZE),
      offset: readSafeU64(this.#view, at + 32),
      storedLength: this.#view.getUint32(at + 40),
      type: this.#view.getUint8(at + 44) === RecordType.tree ? 'tree' : 'data',
    };
  }

  /** Position of `id`, or -1. */
  find(id: Uint8Array): number {
    let low = 0;
    let high = this.count - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const at = mid * INDEX_ENTRY_SIZE;
      const order = compareBytes(this.#bytes.subarray(at, at + BLOB_ID_SIZE), id);
      if (order === 0) return mid;
      if (order < 0) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  *entries(): IterableIterator<IndexEntry> {
    for (let i = 0; i < this.count; i++) yield this.entry(i);
  }
}

/** The catalog section: UTF-8 JSON `{"snapshots": [...]}` of the snapshots a volume ends. */
export function encodeCatalog(snapshots: readonly SnapshotRecord[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ snapshots }));
}

/** Decodes a catalog section; `offset` and `path` locate it for errors. */
export function decodeCatalog(bytes: Uint8Array, offset: number, path?: string): SnapshotRecord[] {
  const fail = (cause?: unknown) =>
    new StagingFormatError(
      'VOLUME_BAD_CATALOG',
      `${path ?? 'volume'}: the catalog section is damaged`,
      {
        offset,
        cause,
        ...(path === undefined ? {} : { path }),
      },
    );
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw fail(cause);
  }
  const snapshots = (json as { snapshots?: unknown } | null)?.snapshots;
  if (
    !Array.isArray(snapshots) ||
    !snapshots.every(
      (s) =>
        typeof s === 'object' &&
        s !== null &&
        typeof s.id === 'string' &&
        typeof s.time === 'string' &&
        typeof s.rootId === 'string',
    )
  ) {
    throw fail();
  }
  return snapshots as SnapshotRecord[];
}
