#!/usr/bin/env node
import { runCli } from './cli.ts';
import { processIo } from './io.ts';

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
