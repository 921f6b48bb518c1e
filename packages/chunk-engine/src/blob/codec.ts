import { equalBytes, toHex } from '../bytes.ts';
import {
  type Compression,
  compress,
  compressionAvailable,
  compressionIds,
  decompress,
  defaultCompressionLevels,
  looksIncompressible,
} from '../compression/codecs.ts';
import type { BlobKeys } from '../crypto/keys.ts';
import {
  aesGcmOpen,
  aesGcmSeal,
  gcmTagLength,
  hmacSha256,
  randomBytes,
  sha256,
} from '../crypto/primitives.ts';
import { ChunkEngineError } from '../errors.ts';
import type { SinkBlob } from './sink.ts';

/** Version byte of the stored blob format this code writes and reads. */
export const blobFormatVersion = 1;
/** Bytes before the payload: version, compression, flags, reserved. */
export const blobHeaderLength = 4;
const nonceLength = 12;
const flagEncrypted = 1;
/** Largest plaintext a blob may hold (a tree page or a 16 MiB chunk fit easily). */
export const maxBlobLength = 64 * 1024 * 1024;

/** Options of {@link BlobCodec}. */
export interface BlobCodecOptions {
  /** Encrypt with these keys (from `createKeys`/`unlockKeys`); omit for plain, SHA-256-named blobs. */
  keys?: BlobKeys;
  /** Compression for new blobs; default `zstd`, or `deflate` where zstd is unavailable. */
  compression?: Compression;
  /** Level for `compression`; default zstd 1, deflate 1 (zstd 3 compresses ~9 % better, slower). */
  compressionLevel?: number;
}

/**
 * Seals plaintext into stored blobs and opens them again (format in the package README):
 * `version u8 | compression u8 | flags u8 | 0 u8 | [nonce 12 | AES-256-GCM(payload) | tag 16]`.
 * The GCM additional data binds the header, the blob type, the plaintext length and the id, so a
 * blob cannot be swapped for another or relabelled without failing authentication.
 */
export class BlobCodec {
  readonly compression: Compression;
  readonly compressionLevel: number;
  readonly #keys: BlobKeys | undefined;
  #nonceField: Uint8Array = randomBytes(8);
  #nonceCounter = 0;

  constructor(options: BlobCodecOptions = {}) {
    const wanted = options.compression ?? 'zstd';
    if (!(wanted in compressionIds)) {
      throw new RangeError(`"compression" expected zstd, deflate or none, got ${String(wanted)}`);
    }
    this.compression = compressionAvailable(wanted) ? wanted : 'deflate';
    this.compressionLevel = options.compressionLevel ?? defaultCompressionLevels[this.compression];
    if (!Number.isInteger(this.compressionLevel)) {
      throw new RangeError(`"compressionLevel" expected an integer, got ${this.compressionLevel}`);
    }
    if (options.keys) {
      for (const [name, key] of Object.entries(options.keys)) {
        if (!(key instanceof Uint8Array) || key.length !== 32) {
          throw new TypeError(`"keys.${name}" expected 32 bytes`);
        }
      }
    }
    this.#keys = options.keys;
  }

  /**
   * A 96-bit nonce never used before with this key: a random 64-bit field fixed per codec
   * instance and a 32-bit counter (the deterministic construction of NIST SP 800-38D, §8.2.1),
   * with a fresh random field whenever the counter wraps. Instances (threads, processes) collide
   * only if their random fields do (2^-64 a pair); and it spares a random draw per blob.
   */
  #nextNonce(): Uint8Array {
    if (this.#nonceCounter === 0x1_0000_0000) {
      this.#nonceField = randomBytes(8);
      this.#nonceCounter = 0;
    }
    const nonce = new Uint8Array(nonceLength);
    nonce.set(this.#nonceField, 0);
    new DataView(nonce.buffer).setUint32(8, this.#nonceCounter++, false);
    return nonce;
  }

  /** True when blobs are encrypted and ids keyed. */
  get encrypted(): boolean {
    return this.#keys !== undefined;
  }

  /** The options a worker needs to build the same codec (contains keys: never log it). */
  get options(): BlobCodecOptions {
    return {
      keys: this.#keys,
      compression: this.compression,
      compressionLevel: this.compressionLevel,
    };
  }

  /** The id of a blob with this plaintext: SHA-256, or HMAC-SHA-256 under the id key. */
  blobId(plaintext: Uint8Array): Uint8Array {
    return this.#keys ? hmacSha256(this.#keys.id, plaintext) : sha256(plaintext);
  }

  /** Compresses (unless it does not pay) and encrypts `plaintext` into a blob. */
  async seal(
    type: SinkBlob['type'],
    plaintext: Uint8Array,
    id = this.blobId(plaintext),
  ): Promise<SinkBlob> {
    if (plaintext.length > maxBlobLength) {
      throw new RangeError(
        `blob plaintext expected at most ${maxBlobLength} bytes, got ${plaintext.length}`,
      );
    }
    let compression: Compression = this.compression;
    let payload = plaintext;
    if (compression !== 'none' && (type === 'tree' || !looksIncompressible(plaintext))) {
      const packed = compress(compression, plaintext, this.compressionLevel);
      if (packed.length < plaintext.length) payload = packed;
      else compression = 'none';
    } else {
      compression = 'none';
    }
    const header = new Uint8Array([
      blobFormatVersion,
      compressionIds[compression],
      this.#keys ? flagEncrypted : 0,
      0,
    ]);
    if (!this.#keys)
      return { id, type, rawLength: plaintext.length, bytes: concat(header, payload) };
    const nonce = this.#nextNonce();
    const bytes = await aesGcmSeal(
      this.#keys.encryption,
      nonce,
      payload,
      additionalData(header, type, plaintext.length, id),
      concat(header, nonce),
    );
    return { id, type, rawLength: plaintext.length, bytes };
  }

  /**
   * The plaintext of `blob`, after checking its authentication tag and that it hashes to its id.
   *
   * @throws {@link ChunkEngineError} `BLOB_CORRUPT`, `BLOB_AUTH_FAILED`, `BLOB_ID_MISMATCH` or
   *   `BLOB_UNSUPPORTED`.
   */
  async open(blob: SinkBlob): Promise<Uint8Array> {
    const { bytes, id, type, rawLength } = blob;
    const blobId = id instanceof Uint8Array ? toHex(id) : undefined;
    const fail = (code: 'BLOB_CORRUPT' | 'BLOB_UNSUPPORTED', message: string, cause?: unknown) =>
      new ChunkEngineError(code, `blob ${blobId}: ${message}`, { blobId, cause });
    if (!(bytes instanceof Uint8Array) || bytes.length < blobHeaderLength)
      throw fail('BLOB_CORRUPT', 'shorter than its header');
    if (!(id instanceof Uint8Array) || id.length !== 32)
      throw fail('BLOB_CORRUPT', 'its id is not 32 bytes');
    if (!Number.isSafeInteger(rawLength) || rawLength < 0 || rawLength > maxBlobLength) {
      throw fail('BLOB_CORRUPT', `implausible plaintext length ${rawLength}`);
    }
    if (bytes[0] !== blobFormatVersion)
      throw fail('BLOB_UNSUPPORTED', `unknown format version ${bytes[0]}`);
    const compression = (Object.keys(compressionIds) as Compression[]).find(
      (name) => compressionIds[name] === bytes[1],
    );
    if (compression === undefined || bytes[3] !== 0 || (bytes[2]! & ~flagEncrypted) !== 0) {
      throw fail('BLOB_CORRUPT', 'bad header');
    }
    if (!compressionAvailable(compression))
      throw fail('BLOB_UNSUPPORTED', `${compression} is not available in this runtime`);
    const encrypted = (bytes[2]! & flagEncrypted) !== 0;
    if (encrypted !== this.encrypted) {
      throw fail(
        'BLOB_UNSUPPORTED',
        encrypted
          ? 'it is encrypted and no keys were given'
          : 'it is not encrypted but keys were given',
      );
    }
    let payload = bytes.subarray(blobHeaderLength);
    if (this.#keys) {
      if (payload.length < nonceLength + gcmTagLength)
        throw fail('BLOB_CORRUPT', 'too short for its nonce and tag');
      const opened = await aesGcmOpen(
        this.#keys.encryption,
        payload.subarray(0, nonceLength),
        payload.subarray(nonceLength),
        additionalData(bytes.subarray(0, blobHeaderLength), type, rawLength, id),
      );
      if (opened === undefined) {
        throw new ChunkEngineError(
          'BLOB_AUTH_FAILED',
          `blob ${blobId} failed authentication: it was modified or damaged`,
          { blobId },
        );
      }
      payload = opened;
    }
    let plaintext: Uint8Array;
    try {
      plaintext = decompress(compression, payload, rawLength);
    } catch (cause) {
      throw fail(
        'BLOB_CORRUPT',
        `cannot ${compression}-decompress: ${(cause as Error).message}`,
        cause,
      );
    }
    if (!equalBytes(this.blobId(plaintext), id)) {
      throw new ChunkEngineError(
        'BLOB_ID_MISMATCH',
        `blob ${blobId}: its content does not hash to its id`,
        { blobId },
      );
    }
    return plaintext;
  }
}

const blobTypes = { data: 0, tree: 1 } as const;

function additionalData(
  header: Uint8Array,
  type: SinkBlob['type'],
  rawLength: number,
  id: Uint8Array,
): Uint8Array {
  const aad = new Uint8Array(blobHeaderLength + 1 + 8 + 32);
  aad.set(header, 0);
  aad[blobHeaderLength] = blobTypes[type] ?? 0xff;
  new DataView(aad.buffer).setBigUint64(blobHeaderLength + 1, BigInt(rawLength), true);
  aad.set(id, blobHeaderLength + 9);
  return aad;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
