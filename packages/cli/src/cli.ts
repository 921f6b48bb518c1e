import { parseArgs } from 'node:util';
import packageJson from '../package.json' with { type: 'json' };
import type { Command, OptionSpec } from './command.ts';
import { commands } from './commands/index.ts';
import { CliError } from './errors.ts';
import type { Io } from './io.ts';

export const programName = 'offline-seed';
export const version: string = packageJson.version;

const globalOptions: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'Print machine-readable JSON on stdout' },
  help: { type: 'boolean', short: 'h', description: 'Show help for the command' },
  version: { type: 'boolean', short: 'V', description: 'Print the version' },
};
const globalFlags = new Set(['--json', '--help', '-h', '--version', '-V']);

const root: Command = {
  name: programName,
  summary: 'Seed the first full backup into Azure on shipped drives instead of a slow network.',
  subcommands: commands,
};

export interface RunOptions {
  io: Io;
  /** Aborts long-running commands (the binary wires it to Ctrl-C). */
  signal?: AbortSignal;
}

/** Runs `offline-seed` with `argv` (without the node and script paths); resolves to the exit code. */
export async function runCli(argv: readonly string[], { io, signal }: RunOptions): Promise<number> {
  const { path, rest } = resolveCommand(argv);
  const command = path[path.length - 1]!;
  const json = argv.includes('--json');
  try {
    if (rest.includes('--version') || rest.includes('-V')) {
      io.stdout(json ? `${JSON.stringify({ version })}\n` : `${version}\n`);
      return 0;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(renderHelp(path));
      return 0;
    }
    if (command.planned) {
      throw new CliError(
        'NOT_AVAILABLE',
        `"${commandLine(path)}" is not available in this release of ${programName} (${version})`,
      );
    }
    if (command.run === undefined) {
      const unknown = rest.find((arg) => !globalFlags.has(arg));
      if (unknown !== undefined) {
        const what = unknown.startsWith('-') ? 'option' : 'command';
        throw usageError(path, `unknown ${what} "${unknown}"`);
      }
      io.stderr(renderHelp(path));
      return 2;
    }
    const { values, positionals } = parseCommandLine(path, rest);
    return (
      (await command.run({
        positionals,
        values,
        json,
        io,
        signal: signal ?? new AbortController().signal,
      })) ?? 0
    );
  } catch (error) {
    return reportError(error, json, io);
  }
}

function resolveCommand(argv: readonly string[]): { path: Command[]; rest: string[] } {
  const path: Command[] = [root];
  const rest: string[] = [];
  let descending = true;
  for (const arg of argv) {
    const next =
      descending && !arg.startsWith('-')
        ? path[path.length - 1]!.subcommands?.find((c) => c.name === arg)
        : undefined;
    if (next !== undefined) {
      path.push(next);
    } else {
      if (!globalFlags.has(arg)) descending = false;
      rest.push(arg);
    }
  }
  return { path, rest };
}

function parseCommandLine(path: Command[], args: string[]) {
  const command = path[path.length - 1]!;
  const options = { ...command.options, ...globalOptions };
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs reports bad command lines as TypeErrors with ERR_PARSE_ARGS_* codes.
    throw usageError(path, (error as Error).message);
  }
}

function usageError(path: Command[], message: string): CliError {
  return new CliError('USAGE', `${message}\nRun "${commandLine(path)} --help" for usage.`);
}

function commandLine(path: Command[]): string {
  return path.map((c) => c.name).join(' ');
}

/** Help for the command at the end of `path`, generated from the command tree. */
export function renderHelp(path: Command[]): string {
  const command = path[path.length - 1]!;
  const lines: string[] = [];
  const head =
    path.length === 1 ? `${programName} ${version}: ${command.summary}` : command.summary;
  lines.push(head, '');
  const usage = command.subcommands
    ? `${commandLine(path)} <command> [options]`
    : `${commandLine(path)}${command.args ? ` ${command.args}` : ''} [options]`;
  lines.push(`Usage: ${usage}`, '');
  if (command.subcommands) {
    lines.push('Commands:');
    const width = Math.max(...command.subcommands.map((c) => c.name.length)) + 2;
    for (const sub of command.subcommands) {
      const note = sub.planned ? ' (not yet available)' : '';
      lines.push(`  ${sub.name.padEnd(width)}${sub.summary}${note}`);
    }
    lines.push('');
  }
  const optionRows = Object.entries({ ...command.options, ...globalOptions }).map(
    ([name, spec]) => {
      const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
      return [flag, spec.description + (spec.multiple ? ' (repeatable)' : '')] as const;
    },
  );
  const width = Math.max(...optionRows.map(([flag]) => flag.length)) + 2;
  lines.push('Options:', ...optionRows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`), '');
  if (command.details) lines.push(command.details.trimEnd(), '');
  if (command.subcommands)
    lines.push(`Run "${commandLine(path)} <command> --help" for a command's options.`, '');
  return lines.join('\n');
}

/** Prints an error for people (or as JSON with `--json`) and returns the exit code. */
function reportError(error: unknown, json: boolean, io: Io): number {
  if (error instanceof Error && error.name === 'AbortError') {
    io.stderr(
      json
        ? `${JSON.stringify({ error: { code: 'INTERRUPTED', message: 'interrupted' } })}\n`
        : 'interrupted\n',
    );
    return 130;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  const fields = Object.fromEntries(
    Object.entries(err).filter(([key, value]) => value !== undefined && key !== 'cause'),
  );
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  if (json) {
    io.stderr(
      `${JSON.stringify({ error: { name: err.name, message: err.message, ...fields } })}\n`,
    );
  } else {
    const where = [
      typeof fields.path === 'string' ? fields.path : undefined,
      typeof fields.offset === 'number' ? `offset ${fields.offset}` : undefined,
    ].filter(Boolean);
    const label = code === undefined ? 'error' : `error ${code}`;
    io.stderr(
      `${programName}: ${label}: ${err.message}${where.length ? ` (${where.join(', ')})` : ''}\n`,
    );
  }
  return err instanceof CliError ? err.exitCode : 1;
}
