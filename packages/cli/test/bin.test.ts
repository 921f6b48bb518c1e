import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = promisify(execFile);

describe('the built offline-seed binary', () => {
  it('exists (the test command builds before it tests)', () => {
    expect(existsSync(bin), `${bin} is missing: run "npm run build" first`).toBe(true);
  });

  it('prints help and its version', async () => {
    const help = await run(process.execPath, [bin, '--help']);
    expect(help.stdout).toContain('Usage: offline-seed <command> [options]');
    const { stdout } = await run(process.execPath, [bin, '--version', '--json']);
    expect(JSON.parse(stdout)).toHaveProperty('version');
  });

  it('exits 2 on a usage error', async () => {
    const failure = await run(process.execPath, [bin, '--no-such-flag']).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 2 });
  });
});
