import { describe, expect, it } from 'vitest';
import { expectPositionals, parseSize, requiredOption, stringOption } from './options.ts';
import { memoryIo } from './test-io.ts';

const context = (positionals: string[]) => ({
  positionals,
  values: {},
  json: false,
  io: memoryIo(),
  signal: new AbortController().signal,
});

describe('parseSize', () => {
  it.each([
    ['4096', 4096],
    ['64KiB', 65536],
    ['64k', 65536],
    ['1 MiB', 1048576],
    ['8M', 8388608],
    ['1.5 GiB', 1610612736],
    ['2TiB', 2 * 2 ** 40],
    ['2tib', 2 * 2 ** 40],
    ['512B', 512],
  ])('reads %s as %d bytes', (text, bytes) => {
    expect(parseSize(text, 'size', 'vhd create')).toBe(bytes);
  });

  it.each(['', '0', '-1', '1.5', '1.1', '12XB', '12 apples', '1e3', 'MiB', '9999999999 TiB'])(
    'refuses %j with a usage error naming the option and the command',
    (text) => {
      expect(() => parseSize(text, 'size', 'vhd create')).toThrow(
        expect.objectContaining({
          code: 'USAGE',
          message: expect.stringMatching(
            /--size expected a size[\s\S]*offline-seed vhd create --help/,
          ),
        }),
      );
    },
  );
});

describe('options and positionals', () => {
  it('reads string options and requires them by name', () => {
    expect(stringOption({ a: 'x', b: true }, 'a')).toBe('x');
    expect(stringOption({ b: true }, 'b')).toBeUndefined();
    expect(requiredOption({ staging: 'dir' }, 'staging', 'verify')).toBe('dir');
    expect(() => requiredOption({}, 'staging', 'verify')).toThrow(/--staging is required/);
  });

  it('checks the number of positional arguments', () => {
    expect(expectPositionals(context(['a', 'b']), ['IN', 'OUT'], 'vhd convert')).toEqual([
      'a',
      'b',
    ]);
    expect(() => expectPositionals(context(['a']), ['IN', 'OUT'], 'vhd convert')).toThrow(
      /expected IN OUT, got a/,
    );
    expect(() => expectPositionals(context([]), ['FILE'], 'chunk')).toThrow(
      /expected FILE, got nothing/,
    );
  });
});
