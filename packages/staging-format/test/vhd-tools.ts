import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';

/**
 * True when `command --version`-style probing works. Locally a missing tool skips its tests; in CI
 * (`CI` set) it fails them, so the oracles always run there.
 */
export function hasTool(command: string, args: string[]): boolean {
  const probe = spawnSync(command, args, { encoding: 'utf8' });
  const found = probe.status === 0;
  if (!found && process.env.CI)
    throw new Error(
      `${command} is required in CI but cannot be run: ${probe.error?.message ?? probe.stderr}`,
    );
  return found;
}

/** Runs a tool, failing with its stderr when it exits non-zero. */
export function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed: ${result.stderr || result.error?.message}`,
    );
  return result.stdout;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Debian's Python, which has pyvhdi (python3-libvhdi). */
export const debianPython = '/usr/bin/python3';
