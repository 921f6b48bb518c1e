#!/usr/bin/env node
import { CliError } from './errors.ts';
import { nodeVersionProblem } from './node-version.ts';

// Checked before the commands load: on an older Node their imports fail with a SyntaxError that
// says nothing about the version.
const problem = nodeVersionProblem(process.versions.node);
if (problem === undefined) {
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
