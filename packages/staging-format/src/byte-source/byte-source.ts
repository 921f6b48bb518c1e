import { StagingFormatError } from '../errors.ts';

/** Options accepted by {@link ByteSource.read}. */
export interface ReadOptions {
  abortSignal?: AbortSignal;
}

/**
 * Random-access bytes of known length: a file, a buffer, or (in `@offline-seed/import-job`) a page blob.
 * Everything in this package that reads a VHD or a volume reads it through this interface.
 */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /**
   * Reads exactly `length` bytes starting at `offset`, into a buffer of the caller's own: shared
   * with nothing else, so that it may be kept, changed or moved to another thread.
   *
   * @throws {TypeError | RangeError} when `offset` or `length` is not a non-negative safe integer.
   * @throws {StagingFormatError} `SOURCE_OUT_OF_RANGE` when the range ends past {@link size},
   *   `SOURCE_SHORT_READ` when fewer bytes arrive, `SOURCE_CLOSED` after {@link close}.
   */
  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array>;
  /**
   * Fills `target` with the bytes at `offset`, like {@link read} but into a buffer the caller
   * reuses: streaming code avoids one allocation (and its page faults) per read. Optional.
   */
  readInto?(target: Uint8Array, offset: number, options?: ReadOptions): Promise<void>;
  /** Releases the underlying resource. Reads after this reject with `SOURCE_CLOSED`. */
  close(): Promise<void>;
}

/** Validates a read request against a source of `size` bytes; shared by every implementation. */
export function checkReadRange(size: number, offset: number, length: number, name?: string): void {
  for (const [label, value] of [
    ['offset', offset],
    ['length', length],
  ] as const) {
    if (typeof value !== 'number')
      throw new TypeError(`"${label}" expected number, got ${typeof value}`);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`"${label}" expected a non-negative safe integer, got ${value}`);
    }
  }
  if (offset + length > size) {
    throw new StagingFormatError(
      'SOURCE_OUT_OF_RANGE',
      `read of ${length} bytes at offset ${offset} passes the end of ${name ?? 'the source'} (${size} bytes)`,
      { offset, ...(name === undefined ? {} : { path: name }) },
    );
  }
}

/** Fills `target` from `source` at `offset`, without allocating when the source can. */
export async function readInto(
  source: ByteSource,
  target: Uint8Array,
  offset: number,
  options?: ReadOptions,
): Promise<void> {
  if (source.readInto !== undefined) return source.readInto(target, offset, options);
  target.set(await source.read(offset, target.length, options));
}
