import { StagingFormatError } from '../../errors.ts';
import { nodeCrypto } from './runtime.ts';

/** An incremental hash: `update` any number of times, then `digest` once. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

export type HashAlgorithm = 'sha256' | 'md5';

/**
 * A new incremental hasher. Writing volumes hashes every byte twice (SHA-256 per block, MD5 per
 * transfer range), so it needs the native hashes of `node:crypto`; reading and verifying use Web
 * Crypto and run anywhere.
 */
export function createHasher(algorithm: HashAlgorithm): Hasher {
  if (nodeCrypto === undefined) {
    throw new StagingFormatError(
      'STAGING_UNSUPPORTED_RUNTIME',
      `writing staging volumes needs ${algorithm} from node:crypto, which this runtime lacks`,
    );
  }
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
