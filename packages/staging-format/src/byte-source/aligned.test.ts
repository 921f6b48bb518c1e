import { afterEach, describe, expect, it, vi } from 'vitest';
import { pageAlignedBytes } from './aligned.ts';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('pageAlignedBytes', () => {
  it('gives zeroed, writable bytes of the length asked, on WebAssembly pages', () => {
    for (const length of [65536, 2 * 1024 * 1024, 100_000]) {
      const bytes = pageAlignedBytes(length);
      expect(bytes.length).toBe(length);
      expect(bytes.every((byte) => byte === 0)).toBe(true);
      bytes[length - 1] = 7;
      expect(bytes[length - 1]).toBe(7);
      // Starting at the memory's first byte is what puts it on a page boundary.
      expect(bytes.byteOffset).toBe(0);
      expect(bytes.buffer.byteLength % 65536).toBe(0);
    }
  });

  it('uses plain memory below a WebAssembly page, without WebAssembly, or when it is refused', () => {
    expect(pageAlignedBytes(4096).buffer.byteLength).toBe(4096);
    expect(pageAlignedBytes(0).length).toBe(0);
    vi.stubGlobal('WebAssembly', undefined);
    expect(pageAlignedBytes(1 << 20).buffer.byteLength).toBe(1 << 20);
    vi.stubGlobal('WebAssembly', {
      Memory: class {
        constructor() {
          throw new RangeError('WebAssembly.Memory(): could not allocate memory');
        }
      },
    });
    const bytes = pageAlignedBytes(1 << 20);
    expect(bytes.length).toBe(1 << 20);
    expect(bytes.every((byte) => byte === 0)).toBe(true);
  });

  it('rejects lengths that are not non-negative safe integers', () => {
    for (const length of [-1, 1.5, Number.NaN, 2 ** 53])
      expect(() => pageAlignedBytes(length)).toThrow(RangeError);
  });
});
