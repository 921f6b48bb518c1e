import type { Command } from '../command.ts';
import { runDemo } from '../demo/run-demo.ts';
import { printResult } from '../io.ts';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the offline-seeding flow on sample data, locally',
  options: {
    dir: {
      type: 'string',
      valueName: 'DIR',
      description: 'Work in DIR and keep it (default: a temporary directory, removed)',
    },
    keep: { type: 'boolean', description: 'Keep the temporary work directory and print its path' },
  },
  details: `Stages a generated sample tree (full, then incremental), checks the sealed volumes against
Azure's page-blob rules, verifies the location, restores it and compares bit for bit, and previews a
retention policy. Needs no Azure account and no network.`,
  async run({ values, json, io, signal }) {
    const report = await runDemo({
      dir: values.dir as string | undefined,
      keep: values.keep === true,
      abortSignal: signal,
      onStep: json ? undefined : (line) => io.stdout(`• ${line}\n`),
    });
    const ok =
      report.verify.ok &&
      report.restore.differences.length === 0 &&
      report.volumes.every((v) => v.azureProblems === 0);
    printResult(io, json, report, (r) => (r.workDir ? `work directory kept: ${r.workDir}\n` : ''));
    return ok ? 0 : 1;
  },
};
