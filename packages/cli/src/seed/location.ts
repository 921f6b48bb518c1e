// What stage, restore and verify share about a staging location: how its descriptor records the
// chunk engine's parameters (chunker, compression, key derivation) and how they come back.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  BlobCodec,
  type ChunkerParams,
  type Compression,
  createKeys,
  defaultChunkerParams,
  FastCdc,
  type KeyParams,
  type ScryptParams,
  unlockKeys,
} from '@offline-seed/chunk-engine';
import {
  type CryptoParameters,
  DESCRIPTOR_FILE,
  type JsonValue,
  parseDescriptor,
  type StagingDescriptor,
  StagingFormatError,
  type StagingReader,
  type StoredSnapshot,
} from '@offline-seed/staging-format';
import { readStagingDirectory } from '@offline-seed/staging-format/node';
import { CliError } from '../errors.ts';

/** How blobs are cut and packed; fixed when a location is created, read back on every later run. */
export interface BlobParameters {
  chunker: ChunkerParams;
  compression: Compression;
  compressionLevel: number | undefined;
}

/** Name under which the chunking algorithm is recorded (future algorithms get other names). */
const chunkerAlgorithm = 'fastcdc-2020';

/** The descriptor's `chunker` object for `parameters` (format: see the README, "stage"). */
export function describeBlobParameters(parameters: BlobParameters): {
  [name: string]: JsonValue;
} {
  const { chunker, compression, compressionLevel } = parameters;
  return {
    algorithm: chunkerAlgorithm,
    minSize: chunker.minSize,
    avgSize: chunker.avgSize,
    maxSize: chunker.maxSize,
    level: chunker.level,
    seed: chunker.seed.toString(),
    compression,
    ...(compressionLevel === undefined ? {} : { compressionLevel }),
  };
}

/**
 * The blob parameters a location was created with.
 * @throws {@link CliError} `STAGING_BAD_PARAMETERS` when they are not ones this version writes.
 */
export function blobParametersOf(descriptor: StagingDescriptor, path: string): BlobParameters {
  const c = descriptor.chunker;
  const bad = (why: string) =>
    new CliError('STAGING_BAD_PARAMETERS', `the chunker parameters in ${path} ${why}`, { path });
  if (c.algorithm !== chunkerAlgorithm)
    throw bad(`name an unknown algorithm ${String(c.algorithm)}`);
  const integer = (name: string) => {
    const value = c[name];
    if (!Number.isSafeInteger(value)) throw bad(`have no integer "${name}"`);
    return value as number;
  };
  if (typeof c.seed !== 'string' || !/^\d+$/.test(c.seed)) throw bad('have no decimal "seed"');
  if (c.compression !== 'zstd' && c.compression !== 'deflate' && c.compression !== 'none')
    throw bad(`name an unknown compression ${String(c.compression)}`);
  let chunker: ChunkerParams;
  try {
    chunker = new FastCdc({
      minSize: integer('minSize'),
      avgSize: integer('avgSize'),
      maxSize: integer('maxSize'),
      level: integer('level'),
      seed: BigInt(c.seed),
    }).params;
  } catch (error) {
    if (error instanceof RangeError) throw bad(`are out of range: ${error.message}`);
    throw error;
  }
  return {
    chunker,
    compression: c.compression,
    compressionLevel: c.compressionLevel === undefined ? undefined : integer('compressionLevel'),
  };
}

/**
 * Default blob parameters of a new location: the chunk engine's chunker, zstd level 3. Level 3
 * rather than the engine's throughput default 1: on /usr/lib it stores ~7 % less (as little as
 * restic's default) for a few % more CPU of a whole run, and a seed must fit on its drives.
 */
export function defaultBlobParameters(): BlobParameters {
  return { chunker: { ...defaultChunkerParams }, compression: 'zstd', compressionLevel: 3 };
}

/** New keys for a location being created, and the descriptor's record of how to derive them. */
export async function newEncryption(
  passphrase: string,
  scrypt: Partial<ScryptParams> | undefined,
): Promise<{ crypto: CryptoParameters; keys: Awaited<ReturnType<typeof createKeys>>['keys'] }> {
  const { params, keys } = await createKeys(passphrase, { scrypt });
  const { name, salt, ...cost } = params.kdf;
  return {
    crypto: { kdf: name, salt, keyCheck: params.keyCheck, version: params.version, ...cost },
    keys,
  };
}

/**
 * The codec that reads and writes the blobs of a location: unlocks its keys with `passphrase`
 * when it is encrypted.
 * @throws {@link CliError} `PASSPHRASE_REQUIRED`; `ChunkEngineError` `WRONG_PASSPHRASE`,
 *   `BAD_KEY_PARAMS`.
 */
export async function openCodec(
  descriptor: StagingDescriptor,
  path: string,
  passphrase: string | undefined,
): Promise<BlobCodec> {
  const { compression, compressionLevel } = blobParametersOf(descriptor, path);
  const crypto = descriptor.crypto;
  if (crypto === null) return new BlobCodec({ compression, compressionLevel });
  if (passphrase === undefined) {
    throw new CliError(
      'PASSPHRASE_REQUIRED',
      `${path} is encrypted: give its passphrase (a file, or the OFFLINE_SEED_PASSPHRASE environment variable)`,
      { path },
    );
  }
  const { kdf, salt, keyCheck, version, ...cost } = crypto;
  const params = { version, kdf: { name: kdf, salt, ...cost }, keyCheck } as unknown as KeyParams;
  return new BlobCodec({
    keys: await unlockKeys(passphrase, params),
    compression,
    compressionLevel,
  });
}

/**
 * Reads and checks the descriptor of the location in `dir` without locking or opening volumes.
 * @throws `StagingFormatError` `STAGING_NOT_A_LOCATION` (also when `dir` is missing),
 *   `STAGING_BAD_DESCRIPTOR`, `STAGING_UNSUPPORTED_VERSION`.
 */
export async function readDescriptorOf(dir: string): Promise<StagingDescriptor> {
  const path = join(dir, DESCRIPTOR_FILE);
  try {
    return parseDescriptor(await readFile(path), path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    throw new StagingFormatError(
      'STAGING_NOT_A_LOCATION',
      `${dir} is not a staging location: ${path} is missing`,
      { path },
    );
  }
}

/**
 * The snapshot `ref` names: `latest` (the default), a full id, or an unambiguous id prefix.
 * @throws {@link CliError} `SNAPSHOT_NOT_FOUND`.
 */
export function findSnapshot(
  snapshots: readonly StoredSnapshot[],
  ref: string | undefined,
  path: string,
): StoredSnapshot {
  const notFound = (why: string) => new CliError('SNAPSHOT_NOT_FOUND', why, { path });
  if (ref === undefined || ref === 'latest') {
    const latest = snapshots.at(-1);
    if (latest === undefined) throw notFound(`${path} holds no snapshot yet`);
    return latest;
  }
  const exact = snapshots.find((s) => s.id === ref);
  if (exact) return exact;
  const matches = ref.length >= 4 ? snapshots.filter((s) => s.id.startsWith(ref)) : [];
  if (matches.length === 1) return matches[0]!;
  throw notFound(
    matches.length > 1
      ? `snapshot id prefix "${ref}" is ambiguous (${matches.length} snapshots match)`
      : `no snapshot "${ref}" in ${path}`,
  );
}

/** `path` resolved, after checking it is a non-empty string (`name` is the option it came from). */
export function directoryArgument(path: unknown, name: string): string {
  if (typeof path !== 'string' || path === '')
    throw new TypeError(`"${name}" expected a directory path`);
  return resolve(path);
}

/** Opens the location in `dir` for reading (no lock, no changes), runs `use`, closes it. */
export async function withStagingReader<T>(
  dir: string,
  options: { abortSignal?: AbortSignal },
  use: (reader: StagingReader) => Promise<T>,
): Promise<T> {
  const reader = await readStagingDirectory(dir, options);
  try {
    return await use(reader);
  } finally {
    await reader.close();
  }
}
