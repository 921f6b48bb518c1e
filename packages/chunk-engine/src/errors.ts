/** Stable error codes of {@link ChunkEngineError}. */
export type ChunkEngineErrorCode =
  /** The passphrase does not match the key check stored with the repository parameters. */
  | 'WRONG_PASSPHRASE'
  /** A stored blob failed authenticated decryption: it was modified or damaged. */
  | 'BLOB_AUTH_FAILED'
  /** A blob's content does not hash to its id. */
  | 'BLOB_ID_MISMATCH'
  /** A blob that a catalog refers to is not in the source. */
  | 'BLOB_NOT_FOUND'
  /** Stored bytes could not be decoded (bad header, bad compression stream). */
  | 'BLOB_CORRUPT';

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
