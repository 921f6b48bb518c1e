import { Md5, Sha256 } from './portable.ts';
import { nodeCrypto } from './runtime.ts';

/** An incremental hash: `update` any number of times, then `digest` once. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

export type HashAlgorithm = 'sha256' | 'md5';

/**
 * A new incremental hasher: `node:crypto` where the runtime has it, the portable implementations
 * (several times slower) elsewhere.
 */
export function createHasher(algorithm: HashAlgorithm): Hasher {
  if (nodeCrypto === undefined) return algorithm === 'sha256' ? new Sha256() : new Md5();
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
