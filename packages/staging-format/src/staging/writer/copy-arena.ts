/** Size of the shared-memory slabs blobs are copied into. */
const SLAB_SIZE = 8 * 1024 * 1024;

interface Slab {
  bytes: Uint8Array;
  used: number;
  /** File offset just past the last byte copied into the slab. */
  end: number;
}

/**
 * Private copies of stored bytes, in reusable slabs of shared memory: the write and the hashing
 * worker read the same copy (no per-message copy), and a slab is reused, not reallocated (fresh
 * shared memory costs page faults), once nothing references any byte in it: the caller passes the
 * offset before which both the hashes and the writes in flight are done with the bytes.
 */
export class CopyArena {
  readonly #free: Slab[] = [];
  readonly #full: Slab[] = [];
  #current: Slab | undefined;

  /** A copy of `bytes`, which will sit at file offset `offset`. */
  copy(bytes: Uint8Array, offset: number): Uint8Array {
    if (bytes.length > SLAB_SIZE / 4) return copyInto(allocate(bytes.length), bytes);
    let slab = this.#current;
    if (slab === undefined || slab.used + bytes.length > slab.bytes.length) {
      if (slab !== undefined) this.#full.push(slab);
      slab = this.#free.pop() ?? { bytes: allocate(SLAB_SIZE), used: 0, end: 0 };
      slab.used = 0;
      this.#current = slab;
    }
    const copy = copyInto(slab.bytes.subarray(slab.used, slab.used + bytes.length), bytes);
    slab.used += bytes.length;
    slab.end = offset + bytes.length;
    return copy;
  }

  /** Makes slabs whose bytes all lie before file offset `released` reusable. */
  recycle(released: number): void {
    while (this.#full.length > 0 && this.#full[0]!.end <= released)
      this.#free.push(this.#full.shift()!);
  }
}

function allocate(length: number): Uint8Array {
  return typeof SharedArrayBuffer === 'undefined'
    ? new Uint8Array(length)
    : new Uint8Array(new SharedArrayBuffer(length));
}

function copyInto(target: Uint8Array, bytes: Uint8Array): Uint8Array {
  target.set(bytes);
  return target;
}
