import { pageAlignedBytes } from '../byte-source/aligned.ts';
import type { ByteSink } from '../byte-source/byte-sink.ts';
import { type ByteSource, type ReadOptions, readInto } from '../byte-source/byte-source.ts';
import { checkDiskRange, type VhdDisk, type VirtualDisk } from './disk.ts';
import { SECTOR_SIZE } from './footer.ts';
import { bitmapSize, DEFAULT_BLOCK_SIZE } from './header.ts';
import {
  DynamicVhdWriter,
  type ParentLink,
  sealFixedVhd,
  type VhdIdentityOptions,
  type WrittenVhd,
} from './writer.ts';
import { equalBytes, isZero } from './zero.ts';

const MiB = 1024 * 1024;

/** A raw disk image as a {@link VirtualDisk}. The disk owns `source`. */
export function rawDisk(source: ByteSource): VirtualDisk {
  return {
    virtualSize: source.size,
    read(offset, length, options) {
      checkDiskRange(source.size, offset, length);
      return source.read(offset, length, options);
    },
    readInto(target, offset, options) {
      checkDiskRange(source.size, offset, target.length);
      return readInto(source, target, offset, options);
    },
    mayHaveData: () => true,
    close: () => source.close(),
  };
}

/** A disk of `virtualSize` zero bytes: the input that creates an empty disk. */
export function zeroDisk(virtualSize: number): VirtualDisk {
  if (!Number.isSafeInteger(virtualSize) || virtualSize < 0)
    throw new RangeError(`"virtualSize" expected a non-negative safe integer, got ${virtualSize}`);
  return {
    virtualSize,
    async read(offset, length) {
      checkDiskRange(virtualSize, offset, length);
      return new Uint8Array(length);
    },
    async readInto(target, offset) {
      checkDiskRange(virtualSize, offset, target.length);
      target.fill(0);
    },
    mayHaveData: () => false,
    close: async () => {},
  };
}

/** Progress of long work: bytes of the disk handled so far, of the total. */
export interface Progress {
  bytesDone: number;
  bytesTotal: number;
}

/** Options of long work over a disk: cancellation and progress. */
export interface DiskWorkOptions extends ReadOptions {
  onProgress?: (progress: Progress) => void;
}

/** A piece of a disk: its bytes, or `undefined` when it is known to be zeros without reading. */
interface Chunk {
  offset: number;
  length: number;
  data: Uint8Array | undefined;
  /** Keeps `data`'s buffer from being reused until `work` (a write of it) settles. */
  hold(work: Promise<unknown>): void;
}

/**
 * Buffers per conversion (of one block each). Reads run ahead into every buffer that neither the
 * consumer nor a write in flight holds, so reads and writes overlap. Four, not more: the kernel
 * copies every byte into and out of them, and a smaller set stays in the CPU caches (with eight,
 * those copies took half as much CPU time again; three in flight are enough to keep a disk busy).
 */
const BUFFERS = 4;

/**
 * The disk in `chunkSize` pieces up to `size` (past the disk's end: zeros), read ahead into
 * {@link BUFFERS} recycled buffers. A chunk's data is valid until the consumer asks for the next
 * one, or until the work it passed to `hold` settles.
 */
async function* chunksOf(
  disk: VirtualDisk,
  chunkSize: number,
  size: number,
  options: DiskWorkOptions,
): AsyncGenerator<Chunk> {
  // Allocated on first use: small disks and sparse ones need few.
  const buffers = Array.from({ length: BUFFERS }, () => ({
    bytes: undefined as Uint8Array | undefined,
    busy: Promise.resolve() as Promise<unknown>,
  }));
  const fetch = async (offset: number, buffer: (typeof buffers)[number]): Promise<Chunk> => {
    const length = Math.min(chunkSize, size - offset);
    const inside = Math.max(0, Math.min(length, disk.virtualSize - offset));
    const hold = (work: Promise<unknown>) => {
      buffer.busy = work.catch(() => undefined);
    };
    if (inside === 0 || !disk.mayHaveData(offset, inside))
      return { offset, length, data: undefined, hold };
    await buffer.busy;
    buffer.bytes ??= pageAlignedBytes(Math.min(chunkSize, size));
    const data = buffer.bytes.subarray(0, length);
    await disk.readInto(data.subarray(0, inside), offset, options);
    data.fill(0, inside);
    return { offset, length, data, hold };
  };
  const pending: Array<Promise<Chunk>> = [];
  let next = 0;
  let turn = 0;
  const refill = () => {
    while (pending.length < BUFFERS - 1 && next < size) {
      const read = fetch(next, buffers[turn++ % buffers.length]!);
      // A failed read-ahead must not go unobserved while the consumer is busy.
      read.catch(() => undefined);
      pending.push(read);
      next += chunkSize;
    }
  };
  refill();
  while (pending.length > 0) {
    const chunk = await pending.shift()!;
    refill();
    options.abortSignal?.throwIfAborted();
    yield chunk;
    options.onProgress?.({ bytesDone: chunk.offset + chunk.length, bytesTotal: size });
  }
}

/**
 * The conversion's writes, one at a time: writes to one file serialise on its lock in the kernel,
 * and concurrent ones only spin on it. Reads still run ahead meanwhile.
 */
class WriteQueue {
  #last: Promise<void> = Promise.resolve();

  /** Starts `write` once the previous one is done (throwing its failure); `chunk` is held until it is. */
  async add(chunk: Chunk, write: () => Promise<void>): Promise<void> {
    await this.#last;
    const writing = write();
    chunk.hold(writing);
    // Observed at once so that a failure is never unhandled; rethrown by the next add() or drain().
    writing.catch(() => undefined);
    this.#last = writing;
  }

  drain(): Promise<void> {
    return this.#last;
  }
}

/** What {@link convertDisk} writes: a fixed VHD, a dynamic VHD or a raw image. */
export type ConvertTarget = 'fixed' | 'dynamic' | 'raw';

/** Options of {@link convertDisk}. */
export interface ConvertOptions extends DiskWorkOptions, VhdIdentityOptions {
  type: ConvertTarget;
  /**
   * Virtual size of the result, at least the input's. Default: the input's, rounded up to a whole
   * MiB for VHDs (as Azure requires); exactly the input's for raw images.
   */
  virtualSize?: number;
  /** Block size of a dynamic result (2 MiB by default). */
  blockSize?: number;
}

/** What {@link convertDisk} wrote. */
export interface ConvertResult {
  type: ConvertTarget;
  virtualSize: number;
  fileSize: number;
  /** The footer of a VHD result. */
  footer?: WrittenVhd['footer'];
}

/**
 * Writes `input` (any {@link VirtualDisk}: a VHD or chain, a raw image) to `sink` as a fixed VHD,
 * a dynamic VHD or a raw image, streaming with bounded memory. Zero space is left unwritten
 * (sparse raw and fixed files; unallocated blocks in dynamic ones). Expects a fresh sink.
 */
export async function convertDisk(
  input: VirtualDisk,
  sink: ByteSink,
  options: ConvertOptions,
): Promise<ConvertResult> {
  const { type } = options;
  if (type !== 'fixed' && type !== 'dynamic' && type !== 'raw')
    throw new TypeError(`"type" expected fixed, dynamic or raw, got ${String(type)}`);
  const virtualSize = targetSize(input, options);
  const writes = new WriteQueue();
  if (type === 'dynamic') {
    const writer = new DynamicVhdWriter(sink, { ...options, virtualSize });
    let index = 0;
    for await (const chunk of chunksOf(input, writer.blockSize, virtualSize, options)) {
      const { data } = chunk;
      const block = index++;
      if (data !== undefined && !isZero(data))
        await writes.add(chunk, () => writer.writeBlock(block, data, options));
    }
    await writes.drain();
    return { type, ...(await writer.finish(options)) };
  }
  // Fixed and raw results are the disk's bytes at the same offsets; zeros are left unwritten.
  for await (const chunk of chunksOf(input, DEFAULT_BLOCK_SIZE, virtualSize, options)) {
    const { data } = chunk;
    if (data !== undefined && !isZero(data))
      await writes.add(chunk, () => sink.write(chunk.offset, data, options));
  }
  await writes.drain();
  if (type === 'fixed') return { type, ...(await sealFixedVhd(sink, virtualSize, options)) };
  await sink.truncate(virtualSize);
  return { type, virtualSize, fileSize: virtualSize };
}

function targetSize(input: VirtualDisk, options: ConvertOptions): number {
  const { virtualSize } = options;
  if (virtualSize === undefined) {
    if (options.type === 'raw') return input.virtualSize;
    return Math.max(MiB, Math.ceil(input.virtualSize / MiB) * MiB);
  }
  if (
    !Number.isSafeInteger(virtualSize) ||
    virtualSize % SECTOR_SIZE !== 0 ||
    virtualSize < input.virtualSize
  )
    throw new RangeError(
      `"virtualSize" expected a multiple of 512 of at least the input's ${input.virtualSize} bytes, got ${virtualSize}`,
    );
  return virtualSize;
}

/** Options of {@link createDifferencing}. */
export interface CreateDifferencingOptions extends DiskWorkOptions, VhdIdentityOptions {
  /** How the child names the parent (relative path, optional absolute path). */
  parentPath: Omit<ParentLink, 'uniqueId' | 'timestamp'>;
  /** Virtual size of the child; the parent's by default. At least the content's. */
  virtualSize?: number;
  /** Block size; the parent's when it is dynamic, else 2 MiB. */
  blockSize?: number;
}

/**
 * Writes a differencing VHD over `parent` whose disk reads as `content`: only the sectors that differ
 * from the parent are stored (marked in each block's bitmap); blocks without a difference stay
 * unallocated. Expects a fresh sink.
 */
export async function createDifferencing(
  parent: VhdDisk,
  content: VirtualDisk,
  sink: ByteSink,
  options: CreateDifferencingOptions,
): Promise<WrittenVhd> {
  const virtualSize = options.virtualSize ?? Math.max(parent.virtualSize, content.virtualSize);
  if (virtualSize < content.virtualSize)
    throw new RangeError(
      `"virtualSize" ${virtualSize} is smaller than the content (${content.virtualSize} bytes)`,
    );
  const blockSize =
    options.blockSize ?? (parent.type === 'fixed' ? DEFAULT_BLOCK_SIZE : parent.blockSize);
  const writer = new DynamicVhdWriter(sink, {
    ...options,
    virtualSize,
    blockSize,
    parent: {
      ...options.parentPath,
      uniqueId: parent.uniqueId,
      timestamp: parent.footer.timestamp,
    },
  });
  const base = chunksOf(parent, blockSize, virtualSize, options);
  let index = 0;
  for await (const chunk of chunksOf(content, blockSize, virtualSize, options)) {
    const below = (await base.next()).value as Chunk;
    const data = chunk.data ?? new Uint8Array(chunk.length);
    const bitmap = differingSectors(data, below.data, blockSize);
    if (bitmap !== undefined) await writer.writeBlock(index, data, { ...options, bitmap });
    index++;
  }
  return writer.finish(options);
}

/** The sector bitmap (MSB first) of the sectors where `data` differs from `parent`, or `undefined`. */
function differingSectors(
  data: Uint8Array,
  parent: Uint8Array | undefined,
  blockSize: number,
): Uint8Array | undefined {
  if (parent === undefined ? isZero(data) : equalBytes(data, parent)) return undefined;
  const bits = new Uint8Array(bitmapSize(blockSize));
  for (let at = 0, sector = 0; at < data.length; at += SECTOR_SIZE, sector++) {
    const mine = data.subarray(at, at + SECTOR_SIZE);
    const same =
      parent === undefined ? isZero(mine) : equalBytes(mine, parent.subarray(at, at + SECTOR_SIZE));
    if (!same) bits[sector >> 3]! |= 0x80 >> (sector & 7);
  }
  return bits;
}
