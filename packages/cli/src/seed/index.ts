// Offline seeding of a directory: the chunk engine writing into a staging location, and back.
export {
  type RestoreStagedOptions,
  type RestoreStagedProgress,
  type RestoreStagedResult,
  restoreStagedSnapshot,
} from './restore.ts';
export { type ListStagedSnapshotsOptions, listStagedSnapshots } from './snapshots.ts';
export {
  type StagedSnapshotStats,
  type StageOptions,
  type StageProgress,
  type StageResult,
  stageDirectory,
} from './stage.ts';
export {
  type DamagedFile,
  type SnapshotCheck,
  type StagingVerificationReport,
  type VerifyStagingOptions,
  type VerifyStagingProgress,
  verifyStaging,
} from './verify.ts';
