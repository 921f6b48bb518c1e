import { describe, expect, it } from 'vitest';
import { runCli, version } from './cli.ts';
import { redactSecrets } from './io.ts';
import { memoryIo } from './test-io.ts';

async function run(...argv: string[]) {
  const io = memoryIo();
  const code = await runCli(argv, { io });
  return { code, out: io.out, err: io.err };
}

describe('offline-seed', () => {
  it('prints help listing every command of the flow', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    for (const name of [
      'stage',
      'restore',
      'verify',
      'prep',
      'verify-drive',
      'job',
      'emulator',
      'vhd',
      'policy',
      'demo',
      'chunk',
    ]) {
      expect(out).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    expect(out).toContain('--json');
  });

  it('prints its version, as JSON with --json', async () => {
    expect(await run('--version')).toMatchObject({ code: 0, out: `${version}\n` });
    const { out } = await run('-V', '--json');
    expect(JSON.parse(out)).toEqual({ version });
  });

  it('shows help on stderr and exits 2 without a command', async () => {
    const { code, err } = await run();
    expect(code).toBe(2);
    expect(err).toContain('Usage: offline-seed <command>');
  });

  it('rejects unknown commands with a usage error', async () => {
    const { code, err } = await run('frobnicate');
    expect(code).toBe(2);
    expect(err).toContain('error USAGE: unknown command "frobnicate"');
    expect(err).toContain('offline-seed --help');
  });

  it('rejects unknown options with a usage error', async () => {
    const { code, err } = await run('--frobnicate');
    expect(code).toBe(2);
    expect(err).toContain('error USAGE: unknown option "--frobnicate"');
  });

  it('refuses commands planned for a later release with NOT_AVAILABLE', async () => {
    const { code, err } = await run('emulator');
    expect(code).toBe(2);
    expect(err).toContain(
      'error NOT_AVAILABLE: "offline-seed emulator" is not available in this release',
    );
  });

  it('reports errors as JSON on stderr with --json', async () => {
    const { code, err } = await run('--json', 'frobnicate');
    expect(code).toBe(2);
    expect(JSON.parse(err).error).toMatchObject({ name: 'CliError', code: 'USAGE', exitCode: 2 });
  });
});

describe('redactSecrets', () => {
  it('masks SAS signatures, account keys, bearer tokens and BitLocker keys', () => {
    const text = [
      'https://a.blob.core.windows.net/c?sv=2022-11-02&sig=abc%2Bdef%3D&se=x',
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5==;EndpointSuffix=x',
      'Authorization: Bearer eyJ0eXAiOiJKV1Qi.eyJzdWIiOiIx.c2ln',
      'key 123456-234567-345678-456789-567890-678901-789012-890123',
    ].join('\n');
    const out = redactSecrets(text);
    expect(out).not.toMatch(/abc%2Bdef|c2VjcmV0a2V5|eyJ0eXAi|123456-234567/);
    expect(out).toContain('sig=REDACTED&se=x');
    expect(out).toContain('AccountKey=REDACTED;');
  });
});
