import { CHECKSUM_BLOCK_SIZE } from '../format/constants.ts';
import { createHasher, type Hasher } from '../hashing/hasher.ts';

/** SHA-256 per 2 MiB block of a byte stream, computed as the bytes go by. */
export class BlockHasher {
  #position = 0;
  #current: Hasher | undefined;
  #digests: Uint8Array[] = [];

  get position(): number {
    return this.#position;
  }

  push(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const inBlock = this.#position % CHECKSUM_BLOCK_SIZE;
      const take = Math.min(CHECKSUM_BLOCK_SIZE - inBlock, bytes.length - at);
      this.#current ??= createHasher('sha256');
      this.#current.update(bytes.subarray(at, at + take));
      at += take;
      this.#position += take;
      if (this.#position % CHECKSUM_BLOCK_SIZE === 0) this.#closeBlock();
    }
  }

  /** The checksum table: one 32-byte digest per block, the last one over a partial block. */
  finish(): Uint8Array {
    if (this.#current !== undefined) this.#closeBlock();
    const table = new Uint8Array(this.#digests.length * 32);
    for (const [i, digest] of this.#digests.entries()) table.set(digest, i * 32);
    return table;
  }

  #closeBlock(): void {
    this.#digests.push(this.#current!.digest());
    this.#current = undefined;
  }
}
