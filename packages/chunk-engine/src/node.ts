export {
  type BackupOptions,
  type BackupProgress,
  type BackupResult,
  backupDirectory,
  type SkippedPath,
} from './node/backup.ts';
export type { RestoredFileMeta } from './node/file-writing.ts';
export { type ChunkedFile, SealPool, type SealPoolOptions } from './node/pool.ts';
export {
  type FailedPath,
  type RestoreOptions,
  type RestoreProgress,
  type RestoreResult,
  restoreSnapshot,
} from './node/restore.ts';
