import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

  describe.runIf(typeof process.execve === 'function')('its heap flags', () => {
    /** Runs the binary with a module preloaded that prints, in each image, its pid and flags. */
    async function images(
      nodeOptions: string,
    ): Promise<Array<{ pid: number; execArgv: string[] }>> {
      const dir = mkdtempSync(join(tmpdir(), 'offline-seed-bin-'));
      try {
        const probe = join(dir, 'probe.mjs');
        writeFileSync(
          probe,
          'process.stderr.write(JSON.stringify({ pid: process.pid, execArgv: process.execArgv }) + "\\n");\n',
        );
        const { stderr } = await run(process.execPath, [bin, '--version'], {
          env: {
            ...process.env,
            NODE_OPTIONS: `--import=${pathToFileURL(probe).href} ${nodeOptions}`,
          },
        });
        return stderr
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    it('become the same process again with the young generation capped', async () => {
      const [first, second, ...more] = await images('');
      expect(more).toEqual([]);
      expect(first!.execArgv).not.toContain('--max-semi-space-size=2');
      expect(second).toEqual({ pid: first!.pid, execArgv: ['--max-semi-space-size=2'] });
    });

    it('leave a size the user set, without relaunching', async () => {
      const started = await images('--max-semi-space-size=8');
      expect(started).toHaveLength(1);
      expect(started[0]!.execArgv).toEqual([]);
    });
  });
});
