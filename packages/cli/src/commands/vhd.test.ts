import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { memoryIo } from '../test-io.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-vhd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  // Relative paths resolve against the test's folder, as they would against a shell's.
  const io = Object.assign(memoryIo(), { cwd: dir });
  const code = await runCli(argv, { io });
  return { code, out: io.out, err: io.err, json: () => JSON.parse(io.out) };
}

const MiB = 1024 * 1024;

/** 3 MiB + 1 KiB of data with a zero hole at 1–2 MiB. */
function sampleRaw(): Uint8Array {
  const raw = new Uint8Array(3 * MiB + 1024);
  for (let i = 0; i < raw.length; i += 509) raw[i] = (i % 251) + 1;
  raw.fill(0, MiB, 2 * MiB);
  return raw;
}

describe('offline-seed vhd', () => {
  it('creates, inspects, checks, converts and lists extents of a dynamic disk from a raw image', async () => {
    const raw = sampleRaw();
    await writeFile(join(dir, 'disk.raw'), raw);
    const created = await run('vhd', 'create', 'dyn.vhd', '--from', 'disk.raw', '--json');
    expect(created.code).toBe(0);
    expect(created.json()).toMatchObject({ type: 'dynamic', virtualSize: 4 * MiB });

    const info = await run('vhd', 'info', 'dyn.vhd', '--json');
    expect(info.code).toBe(0);
    expect(info.json()).toMatchObject({
      type: 'dynamic',
      virtualSize: 4 * MiB,
      blockSize: 2 * MiB,
      creatorApp: 'win ',
      parent: null,
      azureCompatible: false,
      problems: [],
    });
    expect(info.json().uniqueId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);

    expect(await run('vhd', 'check', 'dyn.vhd')).toMatchObject({
      code: 0,
      out: expect.stringContaining('sound'),
    });
    const azure = await run('vhd', 'check', 'dyn.vhd', '--azure', '--json');
    expect(azure.code).toBe(1);
    expect(azure.json().problems[0]).toMatchObject({ code: 'VHD_NOT_AZURE_COMPATIBLE' });

    expect((await run('vhd', 'convert', 'dyn.vhd', 'fixed.vhd', '--type', 'fixed')).code).toBe(0);
    expect((await stat(join(dir, 'fixed.vhd'))).size).toBe(4 * MiB + 512);
    expect((await run('vhd', 'check', 'fixed.vhd', '--azure')).code).toBe(0);
    expect((await run('vhd', 'convert', 'fixed.vhd', 'back.raw', '--type', 'raw')).code).toBe(0);
    const back = await readFile(join(dir, 'back.raw'));
    expect(back.subarray(0, raw.length).equals(raw)).toBe(true);
    expect(back.subarray(raw.length).every((b) => b === 0)).toBe(true);

    const extents = await run('vhd', 'extents', 'dyn.vhd', '--json');
    expect(extents.json()).toEqual([
      { offset: 0, length: MiB },
      { offset: 2 * MiB, length: MiB + 1024 },
      { offset: 4 * MiB, length: 512 },
    ]);
    const batOnly = await run(
      'vhd',
      'extents',
      'dyn.vhd',
      '--bat-only',
      '--max-length',
      '1MiB',
      '--json',
    );
    expect(batOnly.json()).toHaveLength(5);
  });

  it('creates a differencing child that stores the difference, and merges it', async () => {
    const raw = sampleRaw();
    await writeFile(join(dir, 'base.raw'), raw);
    expect((await run('vhd', 'create', 'base.vhd', '--from', 'base.raw')).code).toBe(0);
    const changed = raw.slice();
    changed.fill(0xaa, 5000, 6000);
    await writeFile(join(dir, 'changed.raw'), changed);
    const child = await run(
      'vhd',
      'create',
      'child.vhd',
      '--parent',
      'base.vhd',
      '--from',
      'changed.raw',
      '--json',
    );
    expect(child.code).toBe(0);
    const info = (await run('vhd', 'info', 'child.vhd', '--json')).json();
    expect(info).toMatchObject({
      type: 'differencing',
      parent: { path: join(dir, 'base.vhd'), name: 'base.vhd' },
    });
    expect((await run('vhd', 'extents', 'child.vhd', '--json')).json()[0]).toEqual({
      offset: 0,
      length: MiB,
    });

    const merged = await run('vhd', 'merge', 'child.vhd', '--json');
    expect(merged.code).toBe(0);
    expect(merged.json()).toMatchObject({ parentPath: join(dir, 'base.vhd'), bytesMerged: 1536 });
    expect((await run('vhd', 'convert', 'base.vhd', 'merged.raw', '--type', 'raw')).code).toBe(0);
    expect(
      (await readFile(join(dir, 'merged.raw'))).subarray(0, changed.length).equals(changed),
    ).toBe(true);
  });

  it('creates empty fixed disks of an exact size and refuses to overwrite without --force', async () => {
    const created = await run(
      'vhd',
      'create',
      'empty.vhd',
      '--size',
      '20MiB',
      '--type',
      'fixed',
      '--json',
    );
    expect(created.json()).toMatchObject({
      type: 'fixed',
      virtualSize: 20 * MiB,
      fileSize: 20 * MiB + 512,
    });
    const again = await run('vhd', 'create', 'empty.vhd', '--size', '20MiB');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/SOURCE_IO/);
    expect((await stat(join(dir, 'empty.vhd'))).size).toBe(20 * MiB + 512);
    expect((await run('vhd', 'create', 'empty.vhd', '--size', '1MiB', '--force')).code).toBe(0);
  });

  it('reports damaged files with code and offset, and exits non-zero', async () => {
    await run('vhd', 'create', 'bad.vhd', '--size', '1MiB', '--type', 'fixed');
    const path = join(dir, 'bad.vhd');
    const bytes = await readFile(path);
    bytes[MiB + 100] ^= 0xff;
    await writeFile(path, bytes);
    const check = await run('vhd', 'check', 'bad.vhd', '--json');
    expect(check.code).toBe(1);
    expect(check.json().problems).toEqual([
      expect.objectContaining({ code: 'VHD_BAD_CHECKSUM', offset: MiB + 64 }),
    ]);
    const info = await run('vhd', 'info', 'bad.vhd');
    expect(info.code).toBe(1);
    expect(info.err).toContain(`error VHD_BAD_CHECKSUM`);
    expect(info.err).toContain(`offset ${MiB + 64}`);
  });

  it('reports a missing parent', async () => {
    const raw = sampleRaw();
    await writeFile(join(dir, 'p.raw'), raw);
    await run('vhd', 'create', 'p.vhd', '--from', 'p.raw');
    await run('vhd', 'create', 'orphan.vhd', '--parent', 'p.vhd', '--from', 'p.raw');
    await rm(join(dir, 'p.vhd'));
    const check = await run('vhd', 'check', 'orphan.vhd', '--json');
    expect(check.code).toBe(1);
    expect(check.json().problems).toEqual([
      expect.objectContaining({ code: 'VHD_PARENT_NOT_FOUND' }),
    ]);
    const info = await run('vhd', 'info', 'orphan.vhd', '--json');
    expect(info.json().parent).toMatchObject({ path: null, name: 'p.vhd' });
    expect((await run('vhd', 'convert', 'orphan.vhd', 'x.raw', '--type', 'raw')).code).toBe(1);
  });

  it('reports an interrupted merge until it is finished', async () => {
    await writeFile(join(dir, 'pm.raw'), sampleRaw());
    await run('vhd', 'create', 'pm-parent.vhd', '--from', 'pm.raw');
    await run('vhd', 'create', 'pm-child.vhd', '--parent', 'pm-parent.vhd', '--from', 'pm.raw');
    // A journal that never got its header durable: the state right after a crash at the start.
    await writeFile(join(dir, 'pm-parent.vhd.merge-journal'), '');
    const check = await run('vhd', 'check', 'pm-parent.vhd', '--json');
    expect(check.code).toBe(1);
    expect(check.json().problems).toEqual([expect.objectContaining({ code: 'VHD_MERGE_PENDING' })]);
    const merged = await run('vhd', 'merge', 'pm-child.vhd', '--json');
    expect(merged.json()).toMatchObject({ recovered: 'rolled-back' });
    expect((await run('vhd', 'check', 'pm-parent.vhd')).code).toBe(0);
  });

  it('shows progress on a terminal, and never with --json', async () => {
    const tty = Object.assign(memoryIo(), { cwd: dir, isTTY: true });
    expect(
      await runCli(['vhd', 'create', 'tty.vhd', '--size', '8MiB', '--type', 'fixed'], { io: tty }),
    ).toBe(0);
    expect(tty.err).toMatch(/writing \[#*-*\]/);
    const json = Object.assign(memoryIo(), { cwd: dir, isTTY: true });
    await runCli(['vhd', 'convert', 'tty.vhd', 'tty.raw', '--type', 'raw', '--json'], { io: json });
    expect(json.err).toBe('');
  });

  it('never writes over its input, even with --force', async () => {
    await run('vhd', 'create', 'self.vhd', '--size', '1MiB');
    const before = await readFile(join(dir, 'self.vhd'));
    const result = await run(
      'vhd',
      'convert',
      'self.vhd',
      './self.vhd',
      '--type',
      'fixed',
      '--force',
    );
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/also an input; write to another file \(.*self\.vhd\)$/m);
    expect((await readFile(join(dir, 'self.vhd'))).equals(before)).toBe(true);
  });

  it('rejects bad command lines with exit 2, the problem and where to find the usage', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['convert', 'a.vhd', 'b.vhd'], /--type expected fixed, dynamic or raw, got nothing/],
      [['convert', 'a.vhd', 'b.vhd', '--type', 'vhdx'], /got "vhdx"/],
      [['convert', 'a.vhd', 'b.vhd', '--type', 'raw', '--size', '1000'], /multiple of 512/],
      [['create', 'c.vhd'], /give --size, --from RAW, or both/],
      [['create', 'c.vhd', '--size', '1000'], /multiple of 512 bytes, got 1000/],
      [['create', 'c.vhd', '--size', '1MiB', '--type', 'sparse'], /expected fixed or dynamic/],
      [['create', 'c.vhd', '--parent', 'x.vhd'], /--parent needs --from RAW/],
      [['extents', 'x.vhd', '--max-length', '1000'], /--max-length expected a multiple of 512/],
    ];
    for (const [args, problem] of cases) {
      const result = await run('vhd', ...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toMatch(problem);
      expect(result.err).toContain(`Run "offline-seed vhd ${args[0]} --help" for usage.`);
    }
    expect((await run('vhd', 'info')).code).toBe(2);
  });
});
