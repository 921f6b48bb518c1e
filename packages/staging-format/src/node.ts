/** Node-only parts of `@offline-seed/staging-format`: everything that touches the file system. */
export { FileByteSource } from './byte-source/file.ts';
export { FileByteSink, type FileSinkMode } from './byte-source/file-sink.ts';
export {
  type MergeResult,
  type MergeVhdOptions,
  mergeJournalPath,
  mergeVhdFile,
  recoverMerge,
} from './vhd/node/merge.ts';
export { type OpenVhdFileOptions, openVhdFile, parentCandidates } from './vhd/node/open-file.ts';
