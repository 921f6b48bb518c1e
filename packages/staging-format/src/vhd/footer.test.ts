import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DiskType,
  diskGeometry,
  encodeFooter,
  FOOTER_CHECKSUM_OFFSET,
  footerStruct,
  NO_DATA_OFFSET,
  newFooter,
  vhdTimestamp,
} from './footer.ts';
import { vhdChecksum } from './struct.ts';

describe('diskGeometry', () => {
  it.each([
    // [bytes, cylinders, heads, sectors per track] by the specification's algorithm
    [1024 ** 3, 2080, 16, 63],
    [20 * 1024 ** 2, 602, 4, 17],
    [127 * 1024 ** 3, 65278, 16, 255],
    [2 * 1024 ** 4, 65535, 16, 255],
  ])('gives the spec geometry for %d bytes', (size, cylinders, heads, sectorsPerTrack) => {
    expect(diskGeometry(size / 512)).toEqual({ cylinders, heads, sectorsPerTrack });
  });

  it('never describes more sectors than the disk has', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 33 }), (sectors) => {
        const g = diskGeometry(sectors);
        expect(g.cylinders * g.heads * g.sectorsPerTrack).toBeLessThanOrEqual(sectors);
        expect(g.heads).toBeLessThanOrEqual(16);
      }),
    );
  });
});

describe('footer', () => {
  const uniqueId = Uint8Array.from({ length: 16 }, (_, i) => i);
  const timestamp = new Date('2026-01-02T03:04:05Z');

  it('encodes a fixed footer that decodes back, with a valid checksum', () => {
    const fields = newFooter({ virtualSize: 1024 ** 3, diskType: 'fixed', uniqueId, timestamp });
    const encoded = encodeFooter(fields);
    expect(encoded.length).toBe(512);
    expect(new TextDecoder().decode(encoded.subarray(0, 8))).toBe('conectix');
    const decoded = footerStruct.decode(encoded);
    expect(decoded).toMatchObject({
      ...fields,
      checksum: vhdChecksum(encoded, FOOTER_CHECKSUM_OFFSET),
    });
    expect(decoded.dataOffset).toBe(NO_DATA_OFFSET);
    expect(decoded.diskType).toBe(DiskType.fixed);
    expect(decoded.timestamp).toBe(vhdTimestamp(timestamp));
    expect(encoded.subarray(85).every((b) => b === 0)).toBe(true);
  });

  it('has a checksum that any single-byte change breaks', () => {
    const encoded = encodeFooter(newFooter({ virtualSize: 20 * 1024 ** 2, diskType: 'dynamic' }));
    const stored = footerStruct.decode(encoded).checksum;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 511 }),
        fc.integer({ min: 1, max: 255 }),
        (at, delta) => {
          fc.pre(at < FOOTER_CHECKSUM_OFFSET || at >= FOOTER_CHECKSUM_OFFSET + 4);
          const copy = encoded.slice();
          copy[at] = (copy[at]! + delta) & 0xff;
          expect(vhdChecksum(copy, FOOTER_CHECKSUM_OFFSET)).not.toBe(stored);
        },
      ),
    );
  });

  it('refuses sizes that are not whole sectors', () => {
    expect(() => newFooter({ virtualSize: 1000, diskType: 'fixed' })).toThrow(RangeError);
    expect(() => newFooter({ virtualSize: 0, diskType: 'fixed' })).toThrow(RangeError);
  });
});
