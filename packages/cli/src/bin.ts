#!/usr/bin/env node
import { CliError } from './errors.ts';
import { heapFlagsToAdd } from './heap-flags.ts';
import { nodeVersionProblem } from './node-version.ts';

// Checked before the commands load: on an older Node their imports fail with a SyntaxError that
// says nothing about the version.
const problem = nodeVersionProblem(process.versions.node);
if (problem === undefined) {
  relaunchWithHeapFlags();
  await run();
} else {
  const { name, code, message, exitCode } = new CliError('NODE_UNSUPPORTED', problem);
  process.stderr.write(
    process.argv.includes('--json')
      ? `${JSON.stringify({ error: { name, code, message } })}\n`
      : `offline-seed: error ${code}: ${message}\n`,
  );
  process.exitCode = exitCode;
}

/**
 * V8 sizes the main thread's heap when the process starts, so the CLI's heap flags must be on the
 * command line: when they are missing, this process becomes Node again with them (`execve`: the
 * same process id, streams and signals; about 20 ms). Where that is not possible (Windows), or
 * fails, the command runs here with V8's defaults.
 */
function relaunchWithHeapFlags(): void {
  const flags = heapFlagsToAdd(process.execArgv, process.env.NODE_OPTIONS);
  if (flags.length === 0 || process.execve === undefined) return;
  const { execPath, execArgv, argv, env } = process;
  try {
    process.execve(execPath, [execPath, ...flags, ...execArgv, ...argv.slice(1)], env);
  } catch {
    // Still this process, unchanged: go on without the flags.
  }
}

async function run(): Promise<void> {
  const { runCli } = await import('./cli.ts');
  const { processIo } = await import('./io.ts');
  // First Ctrl-C asks the running command to flush and stop; a second one exits at once.
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  });
  process.exitCode = await runCli(process.argv.slice(2), {
    io: processIo(),
    signal: controller.signal,
  });
}
