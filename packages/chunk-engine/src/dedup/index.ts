import { equalBytes } from '../bytes.ts';
import { sha256 } from '../crypto/primitives.ts';
import { ChunkEngineError } from '../errors.ts';

const idLength = 32;
const maxLoad = 0.8;
const growth = 1.5;
const magic = [0x4f, 0x53, 0x44, 0x49]; // "OSDI"
const formatVersion = 1;
const headerLength = 16;

/**
 * The set of blob ids already stored, for deduplication: an open-addressing hash table of the
 * raw 32-byte ids in one flat buffer, nothing else per entry. Ids are SHA-256/HMAC outputs, so
 * their first bytes are already a uniform hash. Growing by 1.5× at 80 % load keeps the load
 * between 53 and 80 %: 40–60 bytes per id, so 10 M ids (10 TB at 1 MiB chunks) take ~0.5 GB.
 */
export class DedupIndex {
  #table: Uint8Array;
  #capacity: number;
  #size = 0;
  /** The all-zero id cannot be stored as a slot (zero marks empty), so it has its own flag. */
  #hasZeroId = false;

  /** @param expectedIds - ids to make room for up front (avoids regrowing). */
  constructor(expectedIds = 0) {
    this.#capacity = Math.max(64, Math.ceil(expectedIds / maxLoad) + 1);
    this.#table = new Uint8Array(this.#capacity * idLength);
  }

  /** Number of ids. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of memory the table holds. */
  get byteLength(): number {
    return this.#table.byteLength;
  }

  /** True when `id` is in the index. */
  has(id: Uint8Array): boolean {
    checkId(id);
    if (isZero(id)) return this.#hasZeroId;
    return this.#slotOf(id) < 0;
  }

  /** Adds `id`; returns false when it was already there. */
  add(id: Uint8Array): boolean {
    checkId(id);
    if (isZero(id)) {
      const added = !this.#hasZeroId;
      this.#hasZeroId = true;
      if (added) this.#size++;
      return added;
    }
    const slot = this.#slotOf(id);
    if (slot < 0) return false;
    this.#table.set(id, slot * idLength);
    this.#size++;
    if (this.#size > this.#capacity * maxLoad) this.#grow();
    return true;
  }

  /** Every id, in table order. */
  *ids(): Generator<Uint8Array> {
    if (this.#hasZeroId) yield new Uint8Array(idLength);
    for (let slot = 0; slot < this.#capacity; slot++) {
      const id = this.#table.subarray(slot * idLength, (slot + 1) * idLength);
      if (!isZero(id)) yield id.slice();
    }
  }

  /**
   * The index as bytes to persist (format version 1): `"OSDI" | version u8 | 0 u8×3 | count u64le |
   * ids (32 bytes each) | SHA-256 of all that`.
   */
  serialize(): Uint8Array {
    const out = new Uint8Array(headerLength + this.#size * idLength + 32);
    out.set(magic, 0);
    out[4] = formatVersion;
    new DataView(out.buffer).setBigUint64(8, BigInt(this.#size), true);
    let offset = headerLength;
    for (const id of this.ids()) {
      out.set(id, offset);
      offset += idLength;
    }
    out.set(sha256(out.subarray(0, offset)), offset);
    return out;
  }

  /**
   * Loads what {@link serialize} wrote.
   *
   * @throws {@link ChunkEngineError} `INDEX_CORRUPT` when the bytes are truncated, of another
   *   version or fail their checksum.
   */
  static deserialize(bytes: Uint8Array): DedupIndex {
    const corrupt = (why: string) => new ChunkEngineError('INDEX_CORRUPT', `dedup index ${why}`);
    if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
    if (bytes.length < headerLength + 32 || !magic.every((b, i) => bytes[i] === b)) {
      throw corrupt('is not a dedup index (bad magic or too short)');
    }
    if (bytes[4] !== formatVersion) throw corrupt(`has unknown version ${bytes[4]}`);
    const count = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(
      8,
      true,
    );
    const end = headerLength + Number(count) * idLength;
    if (count > BigInt(bytes.length) || end + 32 !== bytes.length) {
      throw corrupt(
        `is truncated or too long: ${count} ids need ${end + 32} bytes, got ${bytes.length}`,
      );
    }
    if (!equalBytes(sha256(bytes.subarray(0, end)), bytes.subarray(end))) {
      throw corrupt('fails its checksum');
    }
    const index = new DedupIndex(Number(count));
    for (let offset = headerLength; offset < end; offset += idLength) {
      index.add(bytes.subarray(offset, offset + idLength));
    }
    return index;
  }

  /** Slot index where `id` may be inserted, or −1 when it is already present. */
  #slotOf(id: Uint8Array): number {
    const table = this.#table;
    const word = ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0;
    let slot = Math.floor((word / 2 ** 32) * this.#capacity);
    for (;;) {
      const base = slot * idLength;
      if (table[base] === id[0] && table[base + 1] === id[1] && matches(table, base, id)) return -1;
      if (isZeroAt(table, base)) return slot;
      slot = slot + 1 === this.#capacity ? 0 : slot + 1;
    }
  }

  #grow(): void {
    const old = this.#table;
    const oldCapacity = this.#capacity;
    this.#capacity = Math.ceil(oldCapacity * growth);
    this.#table = new Uint8Array(this.#capacity * idLength);
    for (let slot = 0; slot < oldCapacity; slot++) {
      const base = slot * idLength;
      if (isZeroAt(old, base)) continue;
      const id = old.subarray(base, base + idLength);
      this.#table.set(id, this.#slotOf(id) * idLength);
    }
  }
}

function checkId(id: Uint8Array): void {
  if (!(id instanceof Uint8Array) || id.length !== idLength) {
    throw new TypeError(`blob id expected ${idLength} bytes`);
  }
}

function matches(table: Uint8Array, base: number, id: Uint8Array): boolean {
  for (let i = 2; i < idLength; i++) if (table[base + i] !== id[i]) return false;
  return true;
}

function isZeroAt(table: Uint8Array, base: number): boolean {
  for (let i = 0; i < idLength; i++) if (table[base + i] !== 0) return false;
  return true;
}

function isZero(id: Uint8Array): boolean {
  return isZeroAt(id, 0);
}
