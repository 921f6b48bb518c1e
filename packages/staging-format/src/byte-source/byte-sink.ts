import type { ReadOptions } from './byte-source.ts';

/**
 * Random-access output of growing length: a file, a buffer. Writers of this package write through it
 * and expect a fresh (empty) sink: space they never write reads as zeros.
 */
export interface ByteSink {
  /** Writes all of `bytes` at `offset`, growing the sink as needed. */
  write(offset: number, bytes: Uint8Array, options?: ReadOptions): Promise<void>;
  /**
   * Writes `parts` back to back from `offset` in one request where the medium allows (a block's
   * bitmap and data in one system call). Optional: writers fall back to {@link write}.
   */
  writev?(offset: number, parts: readonly Uint8Array[], options?: ReadOptions): Promise<void>;
  /** Sets the length: cuts, or extends with zeros (sparsely where the medium allows). */
  truncate(size: number): Promise<void>;
  /** Makes everything written so far durable. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Validates a write request; shared by every implementation. */
export function checkWriteRange(offset: number, bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
  if (typeof offset !== 'number')
    throw new TypeError(`"offset" expected number, got ${typeof offset}`);
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(offset + bytes.length))
    throw new RangeError(`"offset" expected a non-negative safe integer, got ${offset}`);
}
