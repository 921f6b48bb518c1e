import { deflateSync, inflateSync } from 'fflate';
import { nodeZlib } from '../runtime.ts';

/** How a blob's payload is compressed; the number is what the blob header stores. */
export const compressionIds = { none: 0, zstd: 1, deflate: 2 } as const;

/** A compression a blob may use. `deflate` is raw deflate (RFC 1951). */
export type Compression = keyof typeof compressionIds;

/** Whether this runtime can compress and decompress `compression`. */
export function compressionAvailable(compression: Compression): boolean {
  return compression !== 'zstd' || typeof nodeZlib?.zstdCompressSync === 'function';
}

/**
 * Default levels, chosen for throughput: seeding is bound by how fast a drive can be filled. On
 * binaries and libraries zstd 1 costs about 0.6× the CPU of zstd 3 for ~9 % more bytes (measured on
 * /usr/lib); deflate is slow at any level, so 1.
 */
export const defaultCompressionLevels: Readonly<Record<Compression, number>> = {
  none: 0,
  zstd: 1,
  deflate: 1,
};

/** Compresses `data`; the caller checks availability first. */
export function compress(compression: Compression, data: Uint8Array, level: number): Uint8Array {
  switch (compression) {
    case 'none':
      return data;
    case 'zstd': {
      const zlib = nodeZlib!;
      return asUint8(
        zlib.zstdCompressSync(data, {
          // Room for the worst case (ZSTD_COMPRESSBOUND) in one output buffer: the default 16 KiB
          // pieces, joined at the end, cost a tenth of zstd 1's time and a copy of the output.
          chunkSize: data.length + (data.length >> 8) + 512,
          params: {
            [zlib.constants.ZSTD_c_compressionLevel]: level,
            // The blob length is stored (and authenticated) already; no checksum needed twice.
            [zlib.constants.ZSTD_c_checksumFlag]: 0,
          },
        }),
      );
    }
    case 'deflate':
      return nodeZlib
        ? asUint8(nodeZlib.deflateRawSync(data, { level }))
        : deflateSync(data, { level: level as 1 });
  }
}

/**
 * Decompresses `data`, which must expand to exactly `rawLength` bytes; never allocates more
 * (a hostile stream cannot exhaust memory). Throws on any bad stream.
 */
export function decompress(
  compression: Compression,
  data: Uint8Array,
  rawLength: number,
): Uint8Array {
  let out: Uint8Array;
  switch (compression) {
    case 'none':
      out = data;
      break;
    case 'zstd':
      out = asUint8(
        nodeZlib!.zstdDecompressSync(data, {
          maxOutputLength: Math.max(rawLength, 1),
          // One output buffer of the known size, not 16 KiB pieces joined at the end.
          chunkSize: Math.max(rawLength, 64),
        }),
      );
      break;
    case 'deflate':
      out = nodeZlib
        ? asUint8(nodeZlib.inflateRawSync(data, { maxOutputLength: Math.max(rawLength, 1) }))
        : inflateSync(data, { out: new Uint8Array(rawLength) });
      break;
  }
  if (out.length !== rawLength) {
    throw new Error(`expected ${rawLength} bytes after decompression, got ${out.length}`);
  }
  return out;
}

function asUint8(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

const sampleLength = 4096;
const samples = 4;
// Order-0 entropy above this many bits per byte means compressed, encrypted or random data.
const incompressibleEntropy = 7.9;

/**
 * Cheap test for data not worth compressing: the byte entropy of a few 4 KiB samples (≈1 µs per
 * MiB, against 15+ ms to deflate a random MiB). Text, code and executables stay well below
 * 7.9 bits per byte; JPEG, ZIP and encrypted data are above.
 */
export function looksIncompressible(data: Uint8Array): boolean {
  if (data.length < 512) return false;
  const counts = new Uint32Array(256);
  const span = Math.min(sampleLength, Math.floor(data.length / samples));
  const step = Math.floor((data.length - span) / Math.max(samples - 1, 1));
  let total = 0;
  for (let s = 0; s < samples; s++) {
    const start = s * step;
    for (let i = start; i < start + span; i++) counts[data[i]!]!++;
    total += span;
  }
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / total;
    entropy -= p * Math.log2(p);
  }
  // Small samples cannot show the full 8 bits; scale the threshold to what they can show.
  return entropy >= Math.min(incompressibleEntropy, Math.log2(total) - 0.2);
}
