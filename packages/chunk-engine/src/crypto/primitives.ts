import type * as NodeCrypto from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { nodeCrypto } from '../runtime.ts';

// Native SHA-256 and AES-GCM are ~12× and ~30× faster than the pure-JS code (measured), so they are
// used whenever the runtime has `node:crypto`; @noble/hashes and WebCrypto are the portable paths.

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  if (nodeCrypto) return new Uint8Array(nodeCrypto.createHash('sha256').update(data).digest());
  return nobleSha256(data);
}

// Node turns a raw key into a KeyObject on every createHmac/createCipheriv call (~30 µs, a fifth
// of the per-blob cost for small files, profiled); keys live for a whole run, so convert once.
const keyObjects = new WeakMap<Uint8Array, NodeCrypto.KeyObject>();

function nodeKey(crypto: typeof NodeCrypto, key: Uint8Array): NodeCrypto.KeyObject {
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = crypto.createSecretKey(key);
    keyObjects.set(key, keyObject);
  }
  return keyObject;
}

/** HMAC-SHA-256 of `data` under `key`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (nodeCrypto) {
    return new Uint8Array(
      nodeCrypto.createHmac('sha256', nodeKey(nodeCrypto, key)).update(data).digest(),
    );
  }
  return hmac(nobleSha256, key, data);
}

/** `length` cryptographically random bytes. */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** AES-GCM tag length in bytes. */
export const gcmTagLength = 16;

/**
 * AES-256-GCM: returns `prefix` (bytes stored in front, such as a header and the nonce), then the
 * ciphertext, then the 16-byte tag, in one buffer: a blob is built without copying it again.
 */
export async function aesGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  prefix: Uint8Array = new Uint8Array(0),
): Promise<Uint8Array> {
  let pieces: Uint8Array[];
  if (nodeCrypto) {
    const cipher = nodeCrypto
      .createCipheriv('aes-256-gcm', nodeKey(nodeCrypto, key), nonce)
      .setAAD(aad);
    pieces = [prefix, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()];
  } else {
    pieces = [prefix, await webCryptoGcm('encrypt', key, nonce, plaintext, aad)];
  }
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** Opens what {@link aesGcmSeal} produced; resolves to `undefined` when authentication fails. */
export async function aesGcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array | undefined> {
  if (sealed.length < gcmTagLength) return undefined;
  if (nodeCrypto) {
    const decipher = nodeCrypto
      .createDecipheriv('aes-256-gcm', nodeKey(nodeCrypto, key), nonce)
      .setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - gcmTagLength));
    const head = decipher.update(sealed.subarray(0, sealed.length - gcmTagLength));
    try {
      // GCM is a stream mode: final() only checks the tag and returns no bytes.
      decipher.final();
      return new Uint8Array(head.buffer, head.byteOffset, head.length);
    } catch {
      return undefined;
    }
  }
  try {
    return await webCryptoGcm('decrypt', key, nonce, sealed, aad);
  } catch {
    return undefined;
  }
}

/** AES-GCM through WebCrypto (browsers, Deno): the portable path, asynchronous only. */
async function webCryptoGcm(
  operation: 'encrypt' | 'decrypt',
  key: Uint8Array,
  nonce: Uint8Array,
  data: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  // WebCrypto's types want ArrayBuffer-backed views; every view here is.
  const bytes = (view: Uint8Array) => view as Uint8Array<ArrayBuffer>;
  const cryptoKey = await crypto.subtle.importKey('raw', bytes(key), 'AES-GCM', false, [operation]);
  const params = { name: 'AES-GCM', iv: bytes(nonce), additionalData: bytes(aad) };
  return new Uint8Array(await crypto.subtle[operation](params, cryptoKey, bytes(data)));
}

/** scrypt parameters (RFC 7914): cost `N` (a power of two), block size `r`, parallelism `p`. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** scrypt of `password` with `salt` into `length` bytes; native when available. */
export async function scrypt(
  password: Uint8Array,
  salt: Uint8Array,
  { N, r, p }: ScryptParams,
  length: number,
): Promise<Uint8Array> {
  if (nodeCrypto) {
    const { scrypt: nativeScrypt } = nodeCrypto;
    // Node refuses by default above 32 MiB; the parameters were already bounded by the caller.
    const maxmem = 128 * N * r * p + 256 * r + 16 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      nativeScrypt(password, salt, length, { N, r, p, maxmem }, (error, key) =>
        error ? reject(error) : resolve(new Uint8Array(key)),
      );
    });
  }
  return scryptAsync(password, salt, { N, r, p, dkLen: length });
}
