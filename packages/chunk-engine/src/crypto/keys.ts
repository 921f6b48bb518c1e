import { equalBytes, fromHex, toHex, utf8 } from '../bytes.ts';
import { ChunkEngineError } from '../errors.ts';
import { hmacSha256, randomBytes, type ScryptParams, scrypt } from './primitives.ts';

/** Keys that encrypt blobs and make their ids. Keep them in memory only. */
export interface BlobKeys {
  /** AES-256-GCM key. */
  readonly encryption: Uint8Array;
  /** HMAC-SHA-256 key for blob ids, so ids do not reveal content. */
  readonly id: Uint8Array;
}

/**
 * What must be stored next to the blobs to unlock them again with the passphrase (format
 * version 1). Contains no secret: the salt and KDF cost, and a key check that tells a wrong
 * passphrase apart before any blob is read.
 */
export interface KeyParams {
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  /** Hex HMAC-SHA-256 of a fixed label under the master key. */
  keyCheck: string;
}

/** Options of {@link createKeys}. */
export interface CreateKeysOptions {
  /** scrypt cost; default N = 2^17, r = 8, p = 1 (128 MiB, about half a second). */
  scrypt?: Partial<ScryptParams>;
}

/** Fewest characters a passphrase may have (as the Azure Backup agent requires). */
export const minPassphraseLength = 16;

/** The default scrypt cost: 128 MiB of memory, well above OWASP's minimum of N = 2^17 with r = 8. */
export const defaultScryptParams: Readonly<ScryptParams> = Object.freeze({
  N: 2 ** 17,
  r: 8,
  p: 1,
});

// Stored parameters are input: cap what they may make us allocate (1 GiB) and compute.
const maxScryptMemory = 1024 * 1024 * 1024;
const saltLength = 32;

const labels = {
  keyCheck: utf8('offline-seed/chunk-engine/key-check/v1'),
  encryption: utf8('offline-seed/chunk-engine/aes-256-gcm/v1'),
  id: utf8('offline-seed/chunk-engine/blob-id/v1'),
};

/**
 * Derives new keys from `passphrase` with a fresh salt; store the returned `params`.
 *
 * @throws {@link ChunkEngineError} `WEAK_PASSPHRASE` when the passphrase is shorter than
 *   {@link minPassphraseLength} characters; {@link RangeError} when the scrypt cost is out of range.
 */
export async function createKeys(
  passphrase: string,
  options: CreateKeysOptions = {},
): Promise<{ params: KeyParams; keys: BlobKeys }> {
  checkPassphrase(passphrase);
  const cost = { ...defaultScryptParams, ...options.scrypt };
  const problem = scryptProblem(cost);
  if (problem) throw new RangeError(`scrypt parameters out of range: ${problem}`);
  const salt = randomBytes(saltLength);
  const master = await scrypt(passwordBytes(passphrase), salt, cost, 32);
  const params: KeyParams = {
    version: 1,
    kdf: { name: 'scrypt', ...cost, salt: toHex(salt) },
    keyCheck: toHex(hmacSha256(master, labels.keyCheck)),
  };
  return { params, keys: subkeys(master) };
}

/**
 * Derives the keys for stored `params` from `passphrase`.
 *
 * @throws {@link ChunkEngineError} `WRONG_PASSPHRASE` when the key check does not match,
 *   `BAD_KEY_PARAMS` when `params` are malformed or too costly.
 */
export async function unlockKeys(passphrase: string, params: KeyParams): Promise<BlobKeys> {
  if (typeof passphrase !== 'string') {
    throw new TypeError(`"passphrase" expected string, got ${typeof passphrase}`);
  }
  const kdf = params?.kdf;
  const salt = typeof kdf?.salt === 'string' ? fromHex(kdf.salt) : undefined;
  const keyCheck = typeof params?.keyCheck === 'string' ? fromHex(params.keyCheck, 32) : undefined;
  const problem =
    params?.version !== 1
      ? `unknown version ${String(params?.version)}`
      : kdf?.name !== 'scrypt'
        ? `unknown KDF ${String(kdf?.name)}`
        : salt === undefined || salt.length < 16
          ? 'bad salt'
          : keyCheck === undefined
            ? 'bad key check'
            : scryptProblem(kdf);
  if (problem || salt === undefined || keyCheck === undefined) {
    throw new ChunkEngineError('BAD_KEY_PARAMS', `key parameters are not usable: ${problem}`);
  }
  const master = await scrypt(passwordBytes(passphrase), salt, kdf, 32);
  if (!equalBytes(hmacSha256(master, labels.keyCheck), keyCheck)) {
    throw new ChunkEngineError(
      'WRONG_PASSPHRASE',
      'the passphrase does not match the one these blobs were encrypted with',
    );
  }
  return subkeys(master);
}

function subkeys(master: Uint8Array): BlobKeys {
  return {
    encryption: hmacSha256(master, labels.encryption),
    id: hmacSha256(master, labels.id),
  };
}

function checkPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string') {
    throw new TypeError(`"passphrase" expected string, got ${typeof passphrase}`);
  }
  const length = [...passphrase].length;
  if (length < minPassphraseLength) {
    throw new ChunkEngineError(
      'WEAK_PASSPHRASE',
      `the passphrase must have at least ${minPassphraseLength} characters, got ${length}`,
    );
  }
}

// NFC so that the same passphrase typed on different systems gives the same key.
function passwordBytes(passphrase: string): Uint8Array {
  return utf8(passphrase.normalize('NFC'));
}

function scryptProblem({ N, r, p }: ScryptParams): string | undefined {
  const isPowerOfTwo = Number.isSafeInteger(N) && N >= 2 ** 10 && (N & (N - 1)) === 0;
  if (!isPowerOfTwo || N > 2 ** 24) return `N must be a power of two in [2^10, 2^24], got ${N}`;
  if (!Number.isInteger(r) || r < 1 || r > 32) return `r must be in [1, 32], got ${r}`;
  if (!Number.isInteger(p) || p < 1 || p > 16) return `p must be in [1, 16], got ${p}`;
  if (128 * N * r * p > maxScryptMemory) return `N·r·p needs more than 1 GiB`;
  return undefined;
}
