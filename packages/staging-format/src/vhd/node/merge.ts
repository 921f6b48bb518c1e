import { access, rm } from 'node:fs/promises';
import type { ReadOptions } from '../../byte-source/byte-source.ts';
import { FileByteSource } from '../../byte-source/file.ts';
import { FileByteSink } from '../../byte-source/file-sink.ts';
import { StagingFormatError } from '../../errors.ts';
import type { Progress } from '../convert.ts';
import { bitAt, formatUuid, type VhdDisk } from '../disk.ts';
import { encodeFooter, FOOTER_SIZE, SECTOR_SIZE } from '../footer.ts';
import { batSize, UNALLOCATED } from '../header.ts';
import { equalBytes } from '../zero.ts';
import { mergeJournalPath } from './journal-path.ts';
import { openVhdFile } from './open-file.ts';

/*
 * Crash-safe merge. Nothing of the parent that exists is modified until a journal holding every
 * in-place change (block data, bitmaps, the BAT) is durable and committed:
 *
 *   1. journal header (original parent length, ids), synced;
 *   2. new blocks appended past the parent's end (the old footer stays where it was), in-place
 *      changes appended to the journal; the new trailing footer written; parent and journal synced;
 *   3. commit record, synced;  4. journal replayed onto the parent, synced;  5. journal deleted.
 *
 * Recovery: a committed journal is replayed again (idempotent); an uncommitted one is discarded and
 * the parent cut back to its original length, which leaves it byte for byte as before.
 */

const JOURNAL_MAGIC = 'VHDMERGE';
const JOURNAL_VERSION = 1;
const JOURNAL_HEADER_SIZE = 64;
const RECORD_HEADER_SIZE = 16;
const RECORD_WRITE = 1;
const RECORD_COMMIT = 2;
/** Marks a complete commit record (ASCII "COMMIT!!"), so a torn one is not taken for a commit. */
const COMMIT_MARK = 0x434f_4d4d_4954_2121n;
/** Largest record: a BAT of 16 Mi entries; anything longer is damage. */
const MAX_RECORD_LENGTH = 64 * 1024 * 1024;

/** Options of {@link mergeVhdFile}. */
export interface MergeVhdOptions extends ReadOptions {
  onProgress?: (progress: Progress) => void;
}

/** What {@link mergeVhdFile} did. */
export interface MergeResult {
  /** The parent the child was merged into. */
  parentPath: string;
  /** Bytes of child data copied into the parent. */
  bytesMerged: number;
  /** A merge interrupted earlier was completed (`'completed'`) or undone (`'rolled-back'`) first. */
  recovered?: 'completed' | 'rolled-back';
}

/**
 * Merges the differencing disk at `childPath` into its parent, crash-safely: interrupted at any
 * point, the parent either reads exactly as before or the next {@link mergeVhdFile} (or
 * {@link recoverMerge}) completes the merge. The parent keeps its unique id, so the child stays a
 * valid (now redundant) child of it; other children of the same parent are invalidated, as with any
 * merge. The child file is left in place.
 *
 * @throws {StagingFormatError} `VHD_UNSUPPORTED_TYPE` when the file is no differencing disk,
 *   `VHD_BAD_SIZE` when child and parent differ in size, `VHD_BAD_JOURNAL` for a foreign journal,
 *   any error of opening the chain, and `SOURCE_IO` when the disk fills up (the parent is then intact).
 */
export async function mergeVhdFile(
  childPath: string,
  options: MergeVhdOptions = {},
): Promise<MergeResult> {
  const probe = await openVhdFile(childPath, {
    ...options,
    allowMissingParent: true,
    allowPendingMerge: true,
  });
  const parentPath = probe.parent?.name;
  await probe.close();
  let recovered: MergeResult['recovered'];
  if (parentPath !== undefined) recovered = await recoverMerge(parentPath);
  const child = await openVhdFile(childPath, options);
  try {
    if (child.type !== 'differencing' || child.parent === undefined)
      throw new StagingFormatError(
        'VHD_UNSUPPORTED_TYPE',
        `${childPath} is a ${child.type} disk, not a differencing disk`,
        { path: childPath },
      );
    const parent = child.parent;
    if (parent.virtualSize !== child.virtualSize)
      throw new StagingFormatError(
        'VHD_BAD_SIZE',
        `the child is ${child.virtualSize} bytes and its parent ${parent.virtualSize}: merging resized disks is not supported`,
        { path: childPath },
      );
    const bytesMerged = await mergeInto(child, parent, parent.name!, options);
    return {
      parentPath: parent.name!,
      bytesMerged,
      ...(recovered === undefined ? {} : { recovered }),
    };
  } finally {
    await child.close();
  }
}

async function mergeInto(
  child: VhdDisk,
  parent: VhdDisk,
  parentPath: string,
  options: MergeVhdOptions,
): Promise<number> {
  const originalSize = parent.source.size;
  const journalPath = mergeJournalPath(parentPath);
  // The parent opens for writing first: a read-only parent must not leave a journal behind.
  const sink = await FileByteSink.open(parentPath, 'update');
  let journal: FileByteSink;
  try {
    journal = await FileByteSink.open(journalPath, 'create');
  } catch (error) {
    await sink.close();
    throw error;
  }
  try {
    const header = new Uint8Array(JOURNAL_HEADER_SIZE);
    const view = new DataView(header.buffer);
    header.set(new TextEncoder().encode(JOURNAL_MAGIC));
    view.setUint32(8, JOURNAL_VERSION);
    view.setBigUint64(16, BigInt(originalSize));
    header.set(parent.uniqueId, 24);
    header.set(child.uniqueId, 40);
    await journal.write(0, header, options);
    await journal.sync();
    const plan = new MergePlan(parent, sink, journal, originalSize, options);
    const bytesMerged = await plan.copyChild(child);
    await plan.finishMetadata();
    await sink.sync();
    await plan.commit();
    await plan.replay();
    await sink.sync();
    await journal.close();
    // Only now, with the parent complete and durable, may the journal go.
    await rm(journalPath);
    return bytesMerged;
  } finally {
    await sink.close();
    await journal.close();
  }
}

/** The parent's changes as they are being decided: appended blocks, journal records. */
class MergePlan {
  readonly #parent: VhdDisk;
  readonly #sink: FileByteSink;
  readonly #journal: FileByteSink;
  readonly #originalSize: number;
  readonly #options: MergeVhdOptions;
  readonly #bat: Uint32Array | undefined;
  readonly #bitmapSize: number;
  /** Sector bitmaps of a differencing parent changed by the current child block. */
  readonly #bitmaps = new Map<number, { offset: number; bits: Uint8Array }>();
  #journalEnd = JOURNAL_HEADER_SIZE;
  #records = 0;
  #append: number;

  constructor(
    parent: VhdDisk,
    sink: FileByteSink,
    journal: FileByteSink,
    originalSize: number,
    options: MergeVhdOptions,
  ) {
    this.#parent = parent;
    this.#sink = sink;
    this.#journal = journal;
    this.#originalSize = originalSize;
    this.#options = options;
    this.#bat = parent.layout.bat?.slice();
    this.#bitmapSize = parent.layout.bitmapSize;
    // New blocks go past everything, old trailing footer included: until commit, nothing moves.
    this.#append = Math.ceil(originalSize / SECTOR_SIZE) * SECTOR_SIZE;
  }

  /** Copies every sector the child holds; returns the bytes copied. */
  async copyChild(child: VhdDisk): Promise<number> {
    const { blockSize } = child;
    const bitmapBytes = child.layout.bitmapSize;
    let merged = 0;
    for (let block = 0; block < child.blockCount; block++) {
      this.#options.abortSignal?.throwIfAborted();
      const start = child.blockOffset(block);
      const blockStart = block * blockSize;
      const length = Math.min(blockSize, child.virtualSize - blockStart);
      if (start !== undefined) {
        const bits = await child.source.read(start, bitmapBytes, this.#options);
        const sectors = length / SECTOR_SIZE;
        for (let sector = 0; sector < sectors; ) {
          if (!bitAt(bits, sector)) {
            sector++;
            continue;
          }
          let end = sector + 1;
          while (end < sectors && bitAt(bits, end)) end++;
          const data = await child.source.read(
            start + bitmapBytes + sector * SECTOR_SIZE,
            (end - sector) * SECTOR_SIZE,
            this.#options,
          );
          await this.#writeDisk(blockStart + sector * SECTOR_SIZE, data);
          merged += data.length;
          sector = end;
        }
        await this.#flushBitmaps();
      }
      this.#options.onProgress?.({ bytesDone: blockStart + length, bytesTotal: child.virtualSize });
    }
    return merged;
  }

  /** Writes disk bytes into the parent, split at the parent's block boundaries. */
  async #writeDisk(diskOffset: number, data: Uint8Array): Promise<void> {
    const parent = this.#parent;
    if (this.#bat === undefined) return this.#write(diskOffset, data);
    let done = 0;
    while (done < data.length) {
      const position = diskOffset + done;
      const block = Math.floor(position / parent.blockSize);
      const inBlock = position - block * parent.blockSize;
      const span = Math.min(parent.blockSize - inBlock, data.length - done);
      const start = await this.#blockStart(block);
      if (parent.type === 'differencing') await this.#markSectors(block, start, inBlock, span);
      await this.#write(start + this.#bitmapSize + inBlock, data.subarray(done, done + span));
      done += span;
    }
  }

  /** Where block `block` of the parent is, allocating it past the end when it is not stored yet. */
  async #blockStart(block: number): Promise<number> {
    const sector = this.#bat![block]!;
    if (sector !== UNALLOCATED) return sector * SECTOR_SIZE;
    const start = this.#append;
    const total = this.#bitmapSize + this.#parent.blockSize;
    if ((start + total) / SECTOR_SIZE >= UNALLOCATED)
      throw new StagingFormatError(
        'VHD_BAD_SIZE',
        'the parent would pass the 2 TiB that 32-bit BAT entries can address',
        { path: this.#parent.name },
      );
    this.#append += total;
    this.#bat![block] = start / SECTOR_SIZE;
    // A dynamic parent's new block holds zeros where the child has nothing; all sectors count as present.
    const bits = new Uint8Array(this.#bitmapSize).fill(this.#parent.type === 'dynamic' ? 0xff : 0);
    await this.#sink.truncate(start + total);
    await this.#sink.write(start, bits, this.#options);
    return start;
  }

  async #markSectors(block: number, start: number, inBlock: number, span: number): Promise<void> {
    let entry = this.#bitmaps.get(block);
    if (entry === undefined) {
      const bits = (await this.#readParentFile(start, this.#bitmapSize)).slice();
      entry = { offset: start, bits };
      this.#bitmaps.set(block, entry);
    }
    for (let sector = inBlock / SECTOR_SIZE; sector < (inBlock + span) / SECTOR_SIZE; sector++)
      entry.bits[sector >> 3]! |= 0x80 >> (sector & 7);
  }

  async #flushBitmaps(): Promise<void> {
    for (const { offset, bits } of this.#bitmaps.values()) await this.#write(offset, bits);
    this.#bitmaps.clear();
  }

  /** Reads the parent file as it is now (appended blocks included). */
  async #readParentFile(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.#originalSize) return this.#parent.source.read(offset, length, this.#options);
    const fresh = await FileByteSource.open(this.#parent.name!);
    try {
      return await fresh.read(offset, length, this.#options);
    } finally {
      await fresh.close();
    }
  }

  /** Past the original end: written now. Inside it: recorded in the journal, applied after commit. */
  async #write(offset: number, data: Uint8Array): Promise<void> {
    if (offset >= this.#originalSize) return this.#sink.write(offset, data, this.#options);
    const header = new Uint8Array(RECORD_HEADER_SIZE);
    const view = new DataView(header.buffer);
    view.setUint32(0, RECORD_WRITE);
    view.setUint32(4, data.length);
    view.setBigUint64(8, BigInt(offset));
    await this.#journal.write(this.#journalEnd, header, this.#options);
    await this.#journal.write(this.#journalEnd + RECORD_HEADER_SIZE, data, this.#options);
    this.#journalEnd += RECORD_HEADER_SIZE + data.length;
    this.#records++;
  }

  /** The new BAT (journaled) and, when blocks were appended, the new trailing footer. */
  async finishMetadata(): Promise<void> {
    const parent = this.#parent;
    if (this.#bat === undefined) return;
    const original = parent.layout.bat!;
    if (!equalBytes(new Uint8Array(original.buffer), new Uint8Array(this.#bat.buffer))) {
      const bytes = new Uint8Array(batSize(this.#bat.length)).fill(0xff);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < this.#bat.length; i++) view.setUint32(i * 4, this.#bat[i]!);
      await this.#write(
        Number(parent.header!.tableOffset),
        bytes.subarray(0, this.#bat.length * 4),
      );
    }
    if (this.#append > this.#originalSize)
      await this.#sink.write(this.#append, encodeFooter(parent.footer), this.#options);
  }

  async commit(): Promise<void> {
    const record = new Uint8Array(RECORD_HEADER_SIZE);
    const view = new DataView(record.buffer);
    view.setUint32(0, RECORD_COMMIT);
    view.setUint32(4, this.#records);
    view.setBigUint64(8, COMMIT_MARK);
    await this.#journal.sync();
    await this.#journal.write(this.#journalEnd, record, this.#options);
    await this.#journal.sync();
  }

  async replay(): Promise<void> {
    await replayJournal(this.#journal.path, this.#sink, this.#options);
  }
}

/** Reads a journal; `committed` is false when it ends before a complete commit record. */
async function readJournal(
  path: string,
  options: ReadOptions,
  onRecord?: (offset: number, data: Uint8Array) => Promise<void>,
): Promise<{ committed: boolean; originalSize: number; parentId: Uint8Array } | undefined> {
  const source = await FileByteSource.open(path);
  try {
    if (source.size < JOURNAL_HEADER_SIZE) return undefined;
    const header = await source.read(0, JOURNAL_HEADER_SIZE, options);
    const view = new DataView(header.buffer, header.byteOffset, JOURNAL_HEADER_SIZE);
    if (
      new TextDecoder().decode(header.subarray(0, 8)) !== JOURNAL_MAGIC ||
      view.getUint32(8) !== JOURNAL_VERSION
    )
      throw new StagingFormatError(
        'VHD_BAD_JOURNAL',
        `${path} is not a merge journal of this version`,
        { path, offset: 0 },
      );
    const originalSize = Number(view.getBigUint64(16));
    const parentId = header.slice(24, 40);
    let at = JOURNAL_HEADER_SIZE;
    let records = 0;
    while (at + RECORD_HEADER_SIZE <= source.size) {
      const record = await source.read(at, RECORD_HEADER_SIZE, options);
      const rv = new DataView(record.buffer, record.byteOffset, RECORD_HEADER_SIZE);
      const kind = rv.getUint32(0);
      const length = rv.getUint32(4);
      if (kind === RECORD_COMMIT)
        return {
          committed: rv.getBigUint64(8) === COMMIT_MARK && length === records,
          originalSize,
          parentId,
        };
      const offset = rv.getBigUint64(8);
      // A crash can leave a torn record at the end; before a commit that only means "not committed".
      if (
        kind !== RECORD_WRITE ||
        length > MAX_RECORD_LENGTH ||
        offset > BigInt(Number.MAX_SAFE_INTEGER)
      )
        break;
      if (at + RECORD_HEADER_SIZE + length > source.size) break;
      if (onRecord !== undefined)
        await onRecord(Number(offset), await source.read(at + RECORD_HEADER_SIZE, length, options));
      at += RECORD_HEADER_SIZE + length;
      records++;
    }
    return { committed: false, originalSize, parentId };
  } finally {
    await source.close();
  }
}

async function replayJournal(
  path: string,
  sink: FileByteSink,
  options: ReadOptions,
): Promise<void> {
  await readJournal(path, options, (offset, data) => sink.write(offset, data, options));
}

/**
 * Finishes or undoes a merge into `parentPath` that was interrupted: a committed journal is
 * replayed, an uncommitted one discarded with the parent cut back to its original length.
 * Resolves to what was done, or `undefined` when there was no journal.
 *
 * @throws {StagingFormatError} `VHD_BAD_JOURNAL` when the journal is damaged or belongs to another file.
 */
export async function recoverMerge(
  parentPath: string,
  options: ReadOptions = {},
): Promise<'completed' | 'rolled-back' | undefined> {
  const journalPath = mergeJournalPath(parentPath);
  const exists = await access(journalPath).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;
  const state = await readJournal(journalPath, options);
  if (state === undefined) {
    // Torn before its header was durable: the parent was not touched yet.
    await rm(journalPath);
    return 'rolled-back';
  }
  // The original trailing footer is never written by a merge: it names the parent the journal is for.
  const id = await readId(parentPath, state.originalSize);
  if (id === undefined || !equalBytes(id, state.parentId))
    throw new StagingFormatError(
      'VHD_BAD_JOURNAL',
      `${journalPath} belongs to a parent with unique id ${formatUuid(state.parentId)}, not to ${parentPath}`,
      { path: journalPath },
    );
  const sink = await FileByteSink.open(parentPath, 'update');
  try {
    if (state.committed) await replayJournal(journalPath, sink, options);
    else await sink.truncate(state.originalSize);
    await sink.sync();
  } finally {
    await sink.close();
  }
  await rm(journalPath);
  return state.committed ? 'completed' : 'rolled-back';
}

/** Unique id in the footer that ends at `end` (the original trailing footer), if the file is that long. */
async function readId(path: string, end: number): Promise<Uint8Array | undefined> {
  const source = await FileByteSource.open(path);
  try {
    if (end < FOOTER_SIZE || end > source.size) return undefined;
    return (await source.read(end - FOOTER_SIZE + 68, 16)).slice();
  } finally {
    await source.close();
  }
}
