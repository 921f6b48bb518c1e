export { programName, type RunOptions, renderHelp, runCli, version } from './cli.ts';
export type { Command, CommandContext, OptionSpec, OptionValues } from './command.ts';
export { CliError, type CliErrorCode } from './errors.ts';
export { type Io, printResult, processIo, redactSecrets } from './io.ts';
