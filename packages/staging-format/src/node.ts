/** Node-only parts of `@offline-seed/staging-format`: everything that touches the file system. */
export { FileByteSource } from './byte-source/file.ts';
