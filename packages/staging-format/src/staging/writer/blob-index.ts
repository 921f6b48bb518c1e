import { BLOB_ID_SIZE } from '../format/constants.ts';

/** Where a blob is stored: its volume and the offset of its record header. */
export interface BlobLocation {
  volume: number;
  offset: number;
  storedLength: number;
  type: 'data' | 'tree';
}

const SEED = crypto.getRandomValues(new Uint32Array(2));

/**
 * An exact set of blob ids with their locations, compact enough for millions of blobs: ids live
 * in one flat byte array, fields in typed columns, lookups go through an open-addressing table of
 * entry numbers. About 60 bytes per blob (see {@link bytesPerEntry}), against ~200 for a `Map`
 * keyed by hex strings. Ids are hashes, but the slot hash mixes in a per-process seed and 64 bits
 * of the id, so crafted ids cannot pile into one slot chain.
 */
export class BlobIndex {
  #count = 0;
  #ids = new Uint8Array(1024 * BLOB_ID_SIZE);
  #volumes = new Uint32Array(1024);
  #offsets = new Float64Array(1024);
  #lengths = new Uint32Array(1024);
  #trees = new Uint8Array(1024);
  /** Entry number + 1 per slot; 0 is empty. Kept at most half full. */
  #slots = new Uint32Array(2048);

  get size(): number {
    return this.#count;
  }

  /** Memory held per stored blob, at the current size and capacity. */
  get bytesPerEntry(): number {
    const held =
      this.#ids.byteLength +
      this.#volumes.byteLength +
      this.#offsets.byteLength +
      this.#lengths.byteLength +
      this.#trees.byteLength +
      this.#slots.byteLength;
    return held / Math.max(this.#count, 1);
  }

  has(id: Uint8Array): boolean {
    return this.#find(id) >= 0;
  }

  get(id: Uint8Array): BlobLocation | undefined {
    const entry = this.#find(id);
    if (entry < 0) return undefined;
    return {
      volume: this.#volumes[entry]!,
      offset: this.#offsets[entry]!,
      storedLength: this.#lengths[entry]!,
      type: this.#trees[entry] === 1 ? 'tree' : 'data',
    };
  }

  /** Adds `id`; returns false (and changes nothing) when it is already present. */
  add(id: Uint8Array, location: BlobLocation): boolean {
    if (id.length !== BLOB_ID_SIZE) throw new RangeError(`blob ids are ${BLOB_ID_SIZE} bytes`);
    if (this.#find(id) >= 0) return false;
    if (this.#count === this.#volumes.length) this.#growEntries();
    if ((this.#count + 1) * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
    const entry = this.#count++;
    this.#ids.set(id, entry * BLOB_ID_SIZE);
    this.#volumes[entry] = location.volume;
    this.#offsets[entry] = location.offset;
    this.#lengths[entry] = location.storedLength;
    this.#trees[entry] = location.type === 'tree' ? 1 : 0;
    this.#insertSlot(entry);
    return true;
  }

  #slotOf(ids: Uint8Array, at: number): number {
    const a = (ids[at]! << 24) | (ids[at + 1]! << 16) | (ids[at + 2]! << 8) | ids[at + 3]!;
    const b = (ids[at + 4]! << 24) | (ids[at + 5]! << 16) | (ids[at + 6]! << 8) | ids[at + 7]!;
    const h = Math.imul(a ^ SEED[0]!, 0x9e37_79b1) ^ Math.imul(b ^ SEED[1]!, 0x85eb_ca77);
    return (h ^ (h >>> 15)) & (this.#slots.length - 1);
  }

  #find(id: Uint8Array): number {
    if (id.length !== BLOB_ID_SIZE) return -1;
    const mask = this.#slots.length - 1;
    for (let slot = this.#slotOf(id, 0); ; slot = (slot + 1) & mask) {
      const value = this.#slots[slot]!;
      if (value === 0) return -1;
      const entry = value - 1;
      if (this.#idEquals(entry, id)) return entry;
    }
  }

  #idEquals(entry: number, id: Uint8Array): boolean {
    const at = entry * BLOB_ID_SIZE;
    for (let i = 0; i < BLOB_ID_SIZE; i++) if (this.#ids[at + i] !== id[i]) return false;
    return true;
  }

  #insertSlot(entry: number): void {
    const mask = this.#slots.length - 1;
    let slot = this.#slotOf(this.#ids, entry * BLOB_ID_SIZE);
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = entry + 1;
  }

  #growEntries(): void {
    const grow = <T extends Uint8Array | Uint32Array | Float64Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(old.length * 2);
      next.set(old as never);
      return next;
    };
    this.#ids = grow(this.#ids, (n) => new Uint8Array(n));
    this.#volumes = grow(this.#volumes, (n) => new Uint32Array(n));
    this.#offsets = grow(this.#offsets, (n) => new Float64Array(n));
    this.#lengths = grow(this.#lengths, (n) => new Uint32Array(n));
    this.#trees = grow(this.#trees, (n) => new Uint8Array(n));
  }

  #rehash(slotCount: number): void {
    this.#slots = new Uint32Array(slotCount);
    for (let entry = 0; entry < this.#count; entry++) this.#insertSlot(entry);
  }
}
