/** Node-only parts of `@offline-seed/staging-format`: everything that touches the file system. */
export { FileByteSource, type FileByteSourceOptions } from './byte-source/file.ts';
export { FileByteSink, type FileSinkMode } from './byte-source/file-sink.ts';
export * from './staging/node/index.ts';
export { mergeJournalPath } from './vhd/node/journal-path.ts';
export {
  type MergeResult,
  type MergeVhdOptions,
  mergeVhdFile,
  recoverMerge,
} from './vhd/node/merge.ts';
export { type OpenVhdFileOptions, openVhdFile, parentCandidates } from './vhd/node/open-file.ts';
