import { md5 } from '@noble/hashes/legacy.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { nodeCrypto } from './runtime.ts';

/** An incremental hash: `update` any number of times, then `digest` once. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

export type HashAlgorithm = 'sha256' | 'md5';

/** The portable hasher (@noble/hashes): several times slower than `node:crypto`, but runs anywhere. */
export function portableHasher(algorithm: HashAlgorithm): Hasher {
  const hash = algorithm === 'sha256' ? nobleSha256.create() : md5.create();
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => hash.digest(),
  };
}

/** A new incremental hasher: `node:crypto` where the runtime has it, the portable one elsewhere. */
export function createHasher(algorithm: HashAlgorithm): Hasher {
  if (nodeCrypto === undefined) return portableHasher(algorithm);
  const hash = nodeCrypto.createHash(algorithm);
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => new Uint8Array(hash.digest()),
  };
}

/** SHA-256 of `bytes`: native when available, Web Crypto otherwise. */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  if (nodeCrypto !== undefined)
    return new Uint8Array(nodeCrypto.createHash('sha256').update(bytes).digest());
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}
