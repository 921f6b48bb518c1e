/**
 * Fixed-layout big-endian structures described as data: each field knows its offset and size, so a
 * layout reads like the specification's table and is checked against the structure's size at load.
 */
export interface Field<V> {
  readonly offset: number;
  readonly size: number;
  read(view: DataView, bytes: Uint8Array): V;
  write(view: DataView, bytes: Uint8Array, value: V): void;
}

export type Values<F> = { [K in keyof F]: F[K] extends Field<infer V> ? V : never };

export interface Struct<F extends Record<string, Field<unknown>>> {
  readonly size: number;
  readonly fields: F;
  /** Decodes `bytes` (at least {@link size} long) into plain values. */
  decode(bytes: Uint8Array): Values<F>;
  /** Encodes `values` into a fresh buffer of {@link size} bytes; bytes of no field stay zero. */
  encode(values: Values<F>): Uint8Array;
}

export function struct<F extends Record<string, Field<unknown>>>(
  size: number,
  fields: F,
): Struct<F> {
  for (const [name, field] of Object.entries(fields)) {
    if (field.offset + field.size > size)
      throw new Error(`field ${name} overruns a ${size}-byte struct`);
  }
  const entries = Object.entries(fields) as Array<[keyof F, Field<unknown>]>;
  return {
    size,
    fields,
    decode(bytes) {
      if (bytes.length < size)
        throw new RangeError(`"bytes" expected at least ${size} bytes, got ${bytes.length}`);
      const view = new DataView(bytes.buffer, bytes.byteOffset, size);
      const out = {} as Values<F>;
      for (const [name, field] of entries)
        out[name] = field.read(view, bytes) as Values<F>[keyof F];
      return out;
    },
    encode(values) {
      const bytes = new Uint8Array(size);
      const view = new DataView(bytes.buffer);
      for (const [name, field] of entries) field.write(view, bytes, values[name]);
      return bytes;
    },
  };
}

export const u8 = (offset: number): Field<number> => ({
  offset,
  size: 1,
  read: (view) => view.getUint8(offset),
  write: (view, _, value) => view.setUint8(offset, value),
});

export const u16 = (offset: number): Field<number> => ({
  offset,
  size: 2,
  read: (view) => view.getUint16(offset),
  write: (view, _, value) => view.setUint16(offset, value),
});

export const u32 = (offset: number): Field<number> => ({
  offset,
  size: 4,
  read: (view) => view.getUint32(offset),
  write: (view, _, value) => view.setUint32(offset, value >>> 0),
});

/** 64-bit fields stay `bigint`: some hold all-ones markers that no `number` can represent. */
export const u64 = (offset: number): Field<bigint> => ({
  offset,
  size: 8,
  read: (view) => view.getBigUint64(offset),
  write: (view, _, value) => view.setBigUint64(offset, value),
});

/** Raw bytes, copied out on read so decoded values never alias the input. */
export const bytes = (offset: number, size: number): Field<Uint8Array> => ({
  offset,
  size,
  read: (_, data) => data.slice(offset, offset + size),
  write: (_, data, value) => {
    if (value.length !== size) throw new RangeError(`expected ${size} bytes, got ${value.length}`);
    data.set(value, offset);
  },
});

/** Latin-1 text, NUL-padded on write; read keeps every byte (cookies must match exactly). */
export const ascii = (offset: number, size: number): Field<string> => ({
  offset,
  size,
  read: (_, data) => String.fromCharCode(...data.subarray(offset, offset + size)),
  write: (_, data, value) => {
    if (value.length > size) throw new RangeError(`"${value}" is longer than ${size} bytes`);
    for (let i = 0; i < value.length; i++) data[offset + i] = value.charCodeAt(i) & 0xff;
  },
});

/** Big-endian 32-bit sum of all bytes except the 4-byte checksum field, complemented (VHD spec). */
export function vhdChecksum(data: Uint8Array, checksumOffset: number): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    if (i < checksumOffset || i >= checksumOffset + 4) sum = (sum + data[i]!) >>> 0;
  }
  return ~sum >>> 0;
}

/**
 * Encodes `values` (their `checksum` ignored) and stores the VHD checksum of the result in the
 * 4-byte field at `checksumOffset`: how footers and dynamic headers are written.
 */
export function encodeChecksummed<
  F extends Record<string, Field<unknown>> & { checksum: Field<number> },
>(layout: Struct<F>, values: Values<F>): Uint8Array {
  const out = layout.encode({ ...values, checksum: 0 });
  const at = layout.fields.checksum.offset;
  new DataView(out.buffer).setUint32(at, vhdChecksum(out, at));
  return out;
}
