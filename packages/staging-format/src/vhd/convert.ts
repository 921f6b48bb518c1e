import type { ByteSink } from '../byte-source/byte-sink.ts';
import type { ByteSource, ReadOptions } from '../byte-source/byte-source.ts';
import { checkDiskRange, type VhdDisk, type VirtualDisk } from './disk.ts';
import { SECTOR_SIZE } from './footer.ts';
import { bitmapSize, DEFAULT_BLOCK_SIZE } from './header.ts';
import {
  DynamicVhdWriter,
  FixedVhdWriter,
  type ParentLink,
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
    mayHaveData: () => true,
    close: () => source.close(),
  };
}

/** Progress of long work: bytes of the disk handled so far, of the total. */
export interface Progress {
  bytesDone: number;
  bytesTotal: number;
}

export interface DiskWorkOptions extends ReadOptions {
  onProgress?: (progress: Progress) => void;
}

/** A piece of a disk: its bytes, or `undefined` when it is known to be zeros without reading. */
interface Chunk {
  offset: number;
  length: number;
  data: Uint8Array | undefined;
}

/**
 * The disk in `chunkSize` pieces up to `size` (past the disk's end: zeros), reading one piece
 * ahead so that reading overlaps with whatever the consumer does with the previous one.
 */
async function* chunksOf(
  disk: VirtualDisk,
  chunkSize: number,
  size: number,
  options: DiskWorkOptions,
): AsyncGenerator<Chunk> {
  const fetch = async (offset: number): Promise<Chunk> => {
    const length = Math.min(chunkSize, size - offset);
    const inside = Math.max(0, Math.min(length, disk.virtualSize - offset));
    if (inside === 0 || !disk.mayHaveData(offset, inside))
      return { offset, length, data: undefined };
    const bytes = await disk.read(offset, inside, options);
    if (inside === length) return { offset, length, data: bytes };
    const padded = new Uint8Array(length);
    padded.set(bytes);
    return { offset, length, data: padded };
  };
  let pending = size > 0 ? fetch(0) : undefined;
  for (let offset = 0; pending !== undefined; offset += chunkSize) {
    const chunk = await pending;
    pending = offset + chunkSize < size ? fetch(offset + chunkSize) : undefined;
    // A failed read-ahead must not go unobserved while the consumer is busy.
    pending?.catch(() => undefined);
    options.abortSignal?.throwIfAborted();
    yield chunk;
    options.onProgress?.({ bytesDone: chunk.offset + chunk.length, bytesTotal: size });
  }
}

export type ConvertTarget = 'fixed' | 'dynamic' | 'raw';

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
  if (type === 'dynamic') {
    const writer = new DynamicVhdWriter(sink, { ...options, virtualSize });
    let index = 0;
    for await (const chunk of chunksOf(input, writer.blockSize, virtualSize, options)) {
      if (chunk.data !== undefined && !isZero(chunk.data))
        await writer.writeBlock(index, chunk.data, options);
      index++;
    }
    return { type, ...(await writer.finish(options)) };
  }
  const writer =
    type === 'fixed' ? new FixedVhdWriter(sink, { ...options, virtualSize }) : undefined;
  for await (const chunk of chunksOf(input, DEFAULT_BLOCK_SIZE, virtualSize, options)) {
    if (writer !== undefined)
      await writer.write(chunk.data ?? new Uint8Array(chunk.length), options);
    else if (chunk.data !== undefined && !isZero(chunk.data))
      await sink.write(chunk.offset, chunk.data, options);
  }
  if (writer !== undefined) return { type, ...(await writer.finish(options)) };
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
