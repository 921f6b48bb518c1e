/**
 * MD5 of many independent messages at once, with WebAssembly SIMD.
 *
 * One MD5 is a chain of 64 dependent steps per block, so a core mostly waits on it (about 750 MB/s
 * with `node:crypto` here). The transfer hashes are MD5s of many independent ranges: eight of them
 * advance side by side, two interleaved groups of four 32-bit lanes, about three times as fast.
 * The kernel is generated from MD5's tables (RFC 1321) rather than shipped as a binary.
 */

/** Messages hashed side by side. */
export const MD5_LANES = 8;
const GROUPS = MD5_LANES / 4;

// RFC 1321: shift amounts per round and step, sines as constants, message word order per round.
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const SINES = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32));
const wordOf = (step: number): number => {
  const round = step >> 4;
  if (round === 0) return step;
  if (round === 1) return (5 * step + 1) & 15;
  if (round === 2) return (3 * step + 5) & 15;
  return (7 * step) & 15;
};

// WebAssembly opcodes used (core, then SIMD after the 0xfd prefix).
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const EMPTY_BLOCK = 0x40;
const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  not: 0x4d,
  or: 0x50,
  xor: 0x51,
  bitselect: 0x52,
  shl: 0xab,
  shrU: 0xad,
  add: 0xae,
} as const;

const unsignedLeb = (value: number): number[] => {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
};
const signedLeb = (value: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0))
      return [...out, byte];
    out.push(byte | 0x80);
  }
};
const le32 = (value: number): number[] => [0, 8, 16, 24].map((shift) => (value >>> shift) & 255);

/**
 * The kernel module. It exports `memory` and `md5(state, lane0, …, lane7, blocks)`: for each
 * lane, `blocks` 64-byte blocks read from that lane's address, updating the state at `state`,
 * stored as A, B, C, D of lanes 0–3, then of lanes 4–7 (16 bytes each, one 32-bit lane per
 * message).
 */
export function md5LanesWasm(): Uint8Array {
  const params = 2 + MD5_LANES;
  const stateParam = 0;
  const laneParam = (lane: number) => 1 + lane;
  const blocksParam = 1 + MD5_LANES;
  let nextLocal = params;
  const allocate = () => nextLocal++;
  const groups = Array.from({ length: GROUPS }, () => ({
    abcd: [allocate(), allocate(), allocate(), allocate()],
    saved: [allocate(), allocate(), allocate(), allocate()],
    words: Array.from({ length: 16 }, allocate),
    rows: [allocate(), allocate(), allocate(), allocate()],
  }));
  const vectorLocals = nextLocal - params;

  const code: number[] = [];
  const get = (local: number) => code.push(LOCAL_GET, ...unsignedLeb(local));
  const set = (local: number) => code.push(LOCAL_SET, ...unsignedLeb(local));
  const simd = (op: number) => code.push(0xfd, ...unsignedLeb(op));
  const memoryOp = (op: number, offset: number) => {
    simd(op);
    code.push(4, ...unsignedLeb(offset)); // alignment 2^4
  };
  const i32 = (value: number) => code.push(I32_CONST, ...signedLeb(value));
  /** Shuffle of two vectors by 32-bit lanes (0–3 from the first, 4–7 from the second). */
  const shuffle = (lanes: number[]) => {
    simd(SIMD.shuffle);
    for (const lane of lanes) code.push(lane * 4, lane * 4 + 1, lane * 4 + 2, lane * 4 + 3);
  };
  const splat = (value: number) => {
    simd(SIMD.const);
    for (let lane = 0; lane < 4; lane++) code.push(...le32(value));
  };

  for (const [g, group] of groups.entries())
    for (const [i, local] of group.abcd.entries()) {
      get(stateParam);
      memoryOp(SIMD.load, (g * 4 + i) * 16);
      set(local);
    }
  code.push(LOOP, EMPTY_BLOCK);
  for (const [g, { abcd, saved, words, rows }] of groups.entries()) {
    for (const [i, local] of abcd.entries()) {
      get(local);
      set(saved[i]!);
    }
    // Message words, transposed: vector w holds word w of the group's four lanes.
    for (let quad = 0; quad < 4; quad++) {
      const [w0, w1, w2, w3] = [0, 1, 2, 3].map((i) => words[quad * 4 + i]!) as [
        number,
        number,
        number,
        number,
      ];
      for (const [lane, row] of rows.entries()) {
        get(laneParam(g * 4 + lane));
        memoryOp(SIMD.load, quad * 16);
        set(row);
      }
      const [r0, r1, r2, r3] = rows as [number, number, number, number];
      const interleave = (a: number, b: number, lanes: number[], into: number) => {
        get(a);
        get(b);
        shuffle(lanes);
        set(into);
      };
      interleave(r0, r1, [0, 4, 1, 5], w0); // lanes 0,1: words 0 and 1
      interleave(r2, r3, [0, 4, 1, 5], w1); // lanes 2,3: words 0 and 1
      interleave(r0, r1, [2, 6, 3, 7], w2); // lanes 0,1: words 2 and 3
      interleave(r2, r3, [2, 6, 3, 7], w3); // lanes 2,3: words 2 and 3
      interleave(w0, w1, [2, 3, 6, 7], r1);
      interleave(w0, w1, [0, 1, 4, 5], r0);
      interleave(w2, w3, [2, 3, 6, 7], r3);
      interleave(w2, w3, [0, 1, 4, 5], r2);
      for (const [i, row] of [r0, r1, r2, r3].entries()) {
        get(row);
        set(words[quad * 4 + i]!);
      }
    }
  }
  // 64 steps, the groups interleaved so that one group's chain runs while the other's waits.
  for (let step = 0; step < 64; step++) {
    for (const { abcd, words } of groups) {
      const rotation = (4 - (step & 3)) & 3;
      const [a, b, c, d] = [0, 1, 2, 3].map((i) => abcd[(i + rotation) & 3]!) as [
        number,
        number,
        number,
        number,
      ];
      const round = step >> 4;
      const shift = SHIFTS[round * 4 + (step & 3)]!;
      // a = b + rotl(a + f(b, c, d) + sine + word, shift)
      get(a);
      splat(SINES[step]!);
      simd(SIMD.add);
      get(words[wordOf(step)]!);
      simd(SIMD.add);
      // The round's function of b, c and d, in stack order: operands, then operations.
      const [operands, operations] = [
        [[c, d, b], [SIMD.bitselect]], // (b & c) | (~b & d)
        [[b, c, d], [SIMD.bitselect]], // (d & b) | (~d & c)
        [
          [b, c, d],
          [SIMD.xor, SIMD.xor],
        ], // b ^ c ^ d
        [
          [c, b, d],
          [SIMD.not, SIMD.or, SIMD.xor],
        ], // c ^ (b | ~d)
      ][round]!;
      for (const local of operands!) get(local);
      for (const operation of operations!) simd(operation);
      simd(SIMD.add);
      code.push(LOCAL_TEE, ...unsignedLeb(a));
      i32(shift);
      simd(SIMD.shl);
      get(a);
      i32(32 - shift);
      simd(SIMD.shrU);
      simd(SIMD.or);
      get(b);
      simd(SIMD.add);
      set(a);
    }
  }
  for (const { abcd, saved } of groups)
    for (const [i, local] of abcd.entries()) {
      get(local);
      get(saved[i]!);
      simd(SIMD.add);
      set(local);
    }
  for (let lane = 0; lane < MD5_LANES; lane++) {
    get(laneParam(lane));
    i32(64);
    code.push(I32_ADD);
    set(laneParam(lane));
  }
  get(blocksParam);
  i32(1);
  code.push(I32_SUB, LOCAL_TEE, ...unsignedLeb(blocksParam), BR_IF, 0, END);
  for (const [g, group] of groups.entries())
    for (const [i, local] of group.abcd.entries()) {
      get(stateParam);
      get(local);
      memoryOp(SIMD.store, (g * 4 + i) * 16);
    }
  code.push(END);

  const body = [1, ...unsignedLeb(vectorLocals), V128, ...code];
  const section = (id: number, bytes: number[]) => [id, ...unsignedLeb(bytes.length), ...bytes];
  const name = (text: string) => [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0], // "\0asm", version 1
    ...section(1, [1, 0x60, params, ...Array<number>(params).fill(I32), 0]), // (i32 × 10) -> ()
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0, LANE_MEMORY_PAGES]), // memory, minimum pages, no maximum
    ...section(7, [2, ...name('md5'), 0, 0, ...name('memory'), 2, 0]),
    ...section(10, [1, ...unsignedLeb(body.length), ...body]),
  ]);
}

/** 64 KiB pages: the state, a zero window for idle lanes, one window per lane. */
const LANE_MEMORY_PAGES = 2 + MD5_LANES;

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
}

let compiled: object | null | undefined;

/**
 * The compiled kernel, or `undefined` where WebAssembly or its SIMD is missing (`--jitless`, old
 * engines) or synchronous compiling is refused (some browsers' main threads): callers then hash
 * one message at a time. Compiled once.
 */
export function md5LanesModule(): object | undefined {
  if (compiled === undefined) {
    const { WebAssembly: wasm } = globalThis as { WebAssembly?: WasmApi };
    const bytes = md5LanesWasm();
    try {
      compiled = wasm?.validate(bytes) === true ? new wasm.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled ?? undefined;
}

/** A message for {@link createLaneHasher}: its bytes in pieces, and a key to report it by. */
export interface LaneMessage {
  key: number;
  length: number;
  parts: Uint8Array[];
}

export interface LaneHasher {
  /** Queues a message; whenever every lane has one, hashing goes on until a lane runs dry. */
  add(message: LaneMessage): void;
  /** Hashes every message queued, leaving lanes idle where there are too few. */
  flush(): void;
  /** The smallest key of the messages not yet hashed, or `Infinity`. */
  oldest(): number;
}

/**
 * Hashes messages in the lanes of `module` (from {@link md5LanesModule}), calling `onDigest` with
 * each message and its MD5 as soon as it is done; a lane that finishes takes the next message.
 * Parts are referenced until their message is done and copied into the lanes' windows a window
 * at a time. Self-contained (no outer references) so that a worker can run its source.
 */
export function createLaneHasher(
  module: object,
  onDigest: (message: LaneMessage, md5: Uint8Array) => void,
): LaneHasher {
  const lanes = 8;
  const page = 65536;
  /** Bytes per lane per kernel call; the zero window (idle lanes) is at `page`. */
  const window = page;
  const laneAddress = (lane: number) => (2 + lane) * page;
  const iv = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const { WebAssembly: wasm } = globalThis as unknown as {
    WebAssembly: { Instance: new (module: object) => { exports: Record<string, unknown> } };
  };
  const { exports } = new wasm.Instance(module);
  const kernel = exports.md5 as (...args: number[]) => void;
  const memory = new Uint8Array((exports.memory as { buffer: ArrayBuffer }).buffer);
  const state = new Uint32Array(memory.buffer, 0, 32);
  /** Where lane `lane`'s word `word` (A, B, C, D) of the state is. */
  const stateIndex = (lane: number, word: number) => ((lane >> 2) * 4 + word) * 4 + (lane & 3);

  interface Slot {
    message: LaneMessage;
    /** Length with MD5's padding: 0x80, zeros, the bit length as 64-bit little-endian. */
    padded: number;
    done: number;
  }
  const slots: Array<Slot | undefined> = new Array(lanes).fill(undefined);
  const queue: LaneMessage[] = [];

  /** Writes bytes `from` to `to` of the padded message to `at`. */
  const copyPadded = (slot: Slot, from: number, to: number, at: number) => {
    const { parts, length } = slot.message;
    let partStart = 0;
    for (const part of parts) {
      const partEnd = partStart + part.length;
      if (partEnd > from && partStart < to) {
        const start = Math.max(from, partStart);
        const end = Math.min(to, partEnd);
        memory.set(part.subarray(start - partStart, end - partStart), at + start - from);
      }
      partStart = partEnd;
      if (partStart >= to) break;
    }
    if (to <= length) return;
    const padFrom = Math.max(from, length);
    memory.fill(0, at + padFrom - from, at + to - from);
    if (length >= from) memory[at + length - from] = 0x80;
    if (to === slot.padded) {
      const view = new DataView(memory.buffer, at + to - from - 8, 8);
      view.setUint32(0, (length * 8) % 2 ** 32, true);
      view.setUint32(4, Math.floor((length * 8) / 2 ** 32), true);
    }
  };

  const run = (final: boolean) => {
    for (;;) {
      for (let lane = 0; lane < lanes; lane++) {
        if (slots[lane] !== undefined || queue.length === 0) continue;
        const message = queue.shift()!;
        slots[lane] = { message, padded: Math.ceil((message.length + 9) / 64) * 64, done: 0 };
        for (let word = 0; word < 4; word++) state[stateIndex(lane, word)] = iv[word]!;
      }
      const busy = slots.filter((slot) => slot !== undefined);
      if (busy.length === 0 || (!final && busy.length < lanes)) return;
      const bytes = Math.min(window, ...busy.map((slot) => slot.padded - slot.done));
      const addresses = slots.map((slot, lane) => {
        if (slot === undefined) return page;
        copyPadded(slot, slot.done, slot.done + bytes, laneAddress(lane));
        return laneAddress(lane);
      });
      kernel(0, ...addresses, bytes / 64);
      for (const [lane, slot] of slots.entries()) {
        if (slot === undefined) continue;
        slot.done += bytes;
        if (slot.done < slot.padded) continue;
        const md5 = new Uint8Array(16);
        const view = new DataView(md5.buffer);
        for (let word = 0; word < 4; word++)
          view.setUint32(word * 4, state[stateIndex(lane, word)]!, true);
        slots[lane] = undefined;
        onDigest(slot.message, md5);
      }
    }
  };

  return {
    add(message) {
      queue.push(message);
      run(false);
    },
    flush: () => run(true),
    oldest: () =>
      Math.min(
        ...queue.map((message) => message.key),
        ...slots.map((slot) => slot?.message.key ?? Number.POSITIVE_INFINITY),
      ),
  };
}
