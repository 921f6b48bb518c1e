export { type ByteSink, checkWriteRange } from './byte-source/byte-sink.ts';
export {
  type ByteSource,
  checkReadRange,
  type ReadOptions,
  readInto,
} from './byte-source/byte-source.ts';
export { MemoryByteSource } from './byte-source/memory.ts';
export { MemoryByteSink } from './byte-source/memory-sink.ts';
export {
  isStagingFormatError,
  StagingFormatError,
  type StagingFormatErrorCode,
  type StagingFormatErrorDetails,
} from './errors.ts';
// Staging locations and volumes (portable parts; the file-system parts are in ./node.ts).
export * from './staging/index.ts';
export * from './vhd/index.ts';
