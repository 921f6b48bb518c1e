export { programName, type RunOptions, renderHelp, runCli, version } from './cli.ts';
export type { Command, CommandContext, OptionSpec, OptionValues } from './command.ts';
export { CliError, type CliErrorCode } from './errors.ts';
export { type Io, printResult, processIo, redactSecrets } from './io.ts';
export { readPassphrase } from './passphrase.ts';
export {
  type DamagedFile,
  type ListStagedSnapshotsOptions,
  listStagedSnapshots,
  type RestoreStagedOptions,
  type RestoreStagedProgress,
  type RestoreStagedResult,
  restoreStagedSnapshot,
  type SnapshotCheck,
  type StagedSnapshotStats,
  type StageOptions,
  type StageProgress,
  type StageResult,
  type StagingVerificationReport,
  stageDirectory,
  type VerifyStagingOptions,
  type VerifyStagingProgress,
  verifyStaging,
} from './seed/index.ts';
