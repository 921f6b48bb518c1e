// The blob sink contract shared with @offline-seed/staging-format: structural types only, declared
// on both sides with these exact names and shapes (neither package imports the other).

/** A blob as the chunk engine hands it over: already compressed and encrypted. */
export interface SinkBlob {
  /** 32-byte id: SHA-256 of the plaintext, or HMAC-SHA-256 with a derived key when encrypted. */
  id: Uint8Array;
  /** 'data': file content chunk; 'tree': catalog / metadata blob. */
  type: 'data' | 'tree';
  /** Plaintext length before compression and encryption. */
  rawLength: number;
  /** The bytes to store, opaque to the sink (the engine's own header + payload). */
  bytes: Uint8Array;
}

/** Where the engine writes blobs. */
export interface BlobSink {
  /** True when a blob with this id is already stored (in any volume of the location). */
  has(id: Uint8Array): boolean | Promise<boolean>;
  /** Appends the blob; may buffer. Putting an id that is already stored is a no-op. */
  put(blob: SinkBlob, options?: { abortSignal?: AbortSignal }): Promise<void>;
  /** Makes everything put so far durable (fsync); after it resolves nothing put is ever lost. */
  flush(options?: { abortSignal?: AbortSignal }): Promise<void>;
}

/** Where the engine reads blobs back. */
export interface BlobSource {
  /**
   * Returns the stored blob, with bytes of the caller's own (shared with nothing else: the engine
   * may move them to another thread); rejects with the package's typed "not found" error when
   * absent.
   */
  get(id: Uint8Array, options?: { abortSignal?: AbortSignal }): Promise<SinkBlob>;
}
