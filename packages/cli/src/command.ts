import type { Io } from './io.ts';

/** One option of a command, as `util.parseArgs` takes it plus what help shows. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Placeholder shown in help for a string value, e.g. `DIR`. */
  valueName?: string;
}

export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** What a command's `run` receives. */
export interface CommandContext {
  positionals: string[];
  values: OptionValues;
  /** `--json` was given: print machine-readable JSON on stdout. */
  json: boolean;
  io: Io;
  /** Aborted on Ctrl-C: long work flushes what it has and stops. */
  signal: AbortSignal;
}

/**
 * A node of the command tree: either runnable (`run`), a group (`subcommands`), or planned for a
 * later release (`planned`), which help lists and which fails with `NOT_AVAILABLE`.
 */
export interface Command {
  name: string;
  summary: string;
  /** Positional arguments as help shows them, e.g. `FILE` or `IN OUT`. */
  args?: string;
  options?: Record<string, OptionSpec>;
  subcommands?: readonly Command[];
  /** Extra help text: examples, notes. */
  details?: string;
  planned?: boolean;
  /** Returns the exit code (0 when omitted). */
  run?(context: CommandContext): Promise<number | undefined>;
}
