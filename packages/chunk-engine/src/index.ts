export {
  BlobCodec,
  type BlobCodecOptions,
  blobFormatVersion,
  maxBlobLength,
} from './blob/codec.ts';
export { MemoryBlobStore } from './blob/memory-store.ts';
export type { BlobSink, BlobSource, SinkBlob } from './blob/sink.ts';
export { BlobWriter, type BlobWriterStats, type Sealer } from './blob/writer.ts';
export { fromHex, toHex } from './bytes.ts';
export {
  type CatalogEntry,
  catalogFormatVersion,
  type DirectoryEntry,
  type EntryBase,
  type FileEntry,
  type SymlinkEntry,
  type TreeBlob,
} from './catalog/format.ts';
export {
  type BlobOpener,
  CatalogReader,
  type OpenOptions,
  type ReadOptions,
} from './catalog/reader.ts';
export {
  ChunkRefs,
  type DirectoryPage,
  DirectoryPages,
  type DirectoryPagesOptions,
  type TreeWrite,
} from './catalog/writer.ts';
export {
  type Chunk,
  type ChunkerOptions,
  type ChunkerParams,
  type Cut,
  chunkerMasks,
  defaultChunkerParams,
  FastCdc,
} from './chunker/fastcdc.ts';
export { type ChunkStreamOptions, chunkStream, StreamingChunker } from './chunker/stream.ts';
export { type Compression, compressionAvailable } from './compression/codecs.ts';
export {
  type BlobKeys,
  type CreateKeysOptions,
  createKeys,
  defaultScryptParams,
  type KeyParams,
  minPassphraseLength,
  unlockKeys,
} from './crypto/keys.ts';
export type { ScryptParams } from './crypto/primitives.ts';
export { DedupIndex } from './dedup/index.ts';
export { ChunkEngineError, type ChunkEngineErrorCode } from './errors.ts';
export { createSnapshotRecord, type SnapshotRecord } from './snapshot.ts';
