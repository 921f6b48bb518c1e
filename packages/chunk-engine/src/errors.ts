/** Stable error codes of {@link ChunkEngineError}. */
export type ChunkEngineErrorCode =
  /** The passphrase does not match the key check stored with the repository parameters. */
  | 'WRONG_PASSPHRASE'
  /** A passphrase for new keys is too short (fewer than 16 characters). */
  | 'WEAK_PASSPHRASE'
  /** A stored blob failed authenticated decryption: it was modified or damaged. */
  | 'BLOB_AUTH_FAILED'
  /** A blob's content does not hash to its id. */
  | 'BLOB_ID_MISMATCH'
  /** A blob that a catalog refers to is not in the source. */
  | 'BLOB_NOT_FOUND'
  /** Stored bytes could not be decoded (bad header, bad compression stream). */
  | 'BLOB_CORRUPT'
  /** A blob needs a codec this runtime lacks (zstd without `node:zlib`) or a key it was not given. */
  | 'BLOB_UNSUPPORTED'
  /** Stored key parameters are malformed or ask for more memory or time than allowed. */
  | 'BAD_KEY_PARAMS'
  /** A catalog (tree) blob does not describe a valid tree: bad JSON, names or fields. */
  | 'CATALOG_CORRUPT'
  /** A persisted dedup index is truncated, of another version, or fails its checksum. */
  | 'INDEX_CORRUPT'
  /** A path asked for is not in the snapshot. */
  | 'PATH_NOT_FOUND'
  /** A source file could not be read (permissions, I/O error); it was skipped. */
  | 'FILE_UNREADABLE'
  /** A source file disappeared between listing and reading; it was skipped. */
  | 'FILE_VANISHED'
  /** A source entry is not a regular file, directory or symlink (device, FIFO, socket); skipped. */
  | 'FILE_UNSUPPORTED'
  /** A worker thread of the pipeline failed or exited unexpectedly. */
  | 'WORKER_FAILED'
  /** The restore target has no room left (`ENOSPC`, `EDQUOT`): the restore stopped there. */
  | 'TARGET_FULL';

/**
 * The one error class of `@offline-seed/chunk-engine`. Switch on {@link code}; the message is for
 * people. Never carries key material or passphrases.
 */
export class ChunkEngineError extends Error {
  override readonly name = 'ChunkEngineError';
  readonly code: ChunkEngineErrorCode;
  /** Hex id of the blob concerned, when there is one. */
  readonly blobId: string | undefined;
  /** Path (in the snapshot or on disk) of the file concerned, when there is one. */
  readonly path: string | undefined;

  constructor(
    code: ChunkEngineErrorCode,
    message: string,
    where: { blobId?: string; path?: string; cause?: unknown } = {},
  ) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.code = code;
    this.blobId = where.blobId;
    this.path = where.path;
  }
}
