// Staging locations and volumes: the portable parts (formats, writer and readers over a
// LocationStore or ByteSource, an in-memory location). File-system parts are in ../node.ts.

export {
  BLOB_ID_SIZE,
  CHECKSUM_BLOCK_SIZE,
  DEFAULT_MAX_VOLUME_SIZE,
  MAX_BLOB_SIZE,
  MAX_VOLUME_SIZE,
  MIN_VOLUME_SIZE,
  STAGING_FORMAT_VERSION,
} from './format/constants.ts';
export {
  type CryptoParameters,
  DESCRIPTOR_FILE,
  DESCRIPTOR_FORMAT,
  type JobBinding,
  type JsonValue,
  parseDescriptor,
  type SnapshotRecord,
  type StagingDescriptor,
  type StoredSnapshot,
  serializeDescriptor,
  transferHashesFileName,
  type VolumeEntry,
  volumeFileName,
} from './format/descriptor.ts';
export type { IndexEntry } from './format/sections.ts';
export type { Superblock } from './format/superblock.ts';
export type { Section, Trailer } from './format/trailer.ts';
export {
  StagingReader,
  type StagingVerification,
  type UnsealedVolumeState,
} from './location/reader.ts';
export type { VolumeRecovery } from './location/recovery.ts';
export { decodeTransferHashes, type TransferHashes } from './location/transfer-hashes.ts';
export { type CreateStagingOptions, StagingWriter } from './location/writer.ts';
export {
  type DamagedBlob,
  type DamagedBlock,
  type OpenVolumeOptions,
  type ReadAheadOptions,
  type VerifyOptions,
  VolumeReader,
  type VolumeVerification,
} from './reader/volume-reader.ts';
export { type OpenVolumeSetOptions, VolumeSet } from './reader/volume-set.ts';
export type { BlobSink, BlobSource, SinkBlob } from './sink.ts';
export { type CrashOptions, MemoryLocationStore } from './store/memory.ts';
export type { LocationLock, LocationStore, VolumeFile } from './store/store.ts';
export type { BlobLocation } from './writer/blob-index.ts';
export type { TransferRange } from './writer/stream-hasher.ts';
