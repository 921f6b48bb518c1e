import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStagingFormatError } from '../src/index.ts';
import { toHex } from '../src/staging/format/bytes.ts';
import {
  RECORD_HEADER_SIZE,
  RecordType,
  SUPERBLOCK_SIZE,
  TRAILER_SIZE,
} from '../src/staging/format/constants.ts';
import {
  parseDescriptor,
  type StagingDescriptor,
  serializeDescriptor,
} from '../src/staging/format/descriptor.ts';
import {
  decodeRecordHeader,
  encodeRecordHeader,
  recordCrcMatches,
} from '../src/staging/format/record.ts';
import { decodeSuperblock, encodeSuperblock } from '../src/staging/format/superblock.ts';
import { decodeTrailer, encodeTrailer } from '../src/staging/format/trailer.ts';
import { crc32, crc32Portable } from '../src/staging/hashing/crc32.ts';
import { portableHasher } from '../src/staging/hashing/hasher.ts';
import {
  decodeTransferHashes,
  encodeTransferHashes,
} from '../src/staging/location/transfer-hashes.ts';
import { BlobIndex } from '../src/staging/writer/blob-index.ts';
import { StreamHasher } from '../src/staging/writer/stream-hasher.ts';
import { expectedTransferRanges } from './fixtures/staging-helpers.ts';

const stagingId = Uint8Array.from({ length: 16 }, (_, i) => i * 17);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (isStagingFormatError(error)) return error.code;
    throw error;
  }
}

describe('CRC-32', () => {
  it('matches the check value and agrees between the native and portable paths', () => {
    expect(crc32Portable(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        expect(crc32(b, crc32(a))).toBe(crc32Portable(b, crc32Portable(a)));
      }),
    );
  });
});

describe('portable SHA-256 and MD5', () => {
  it('match node:crypto for any input, however it is split', () => {
    expect(toHex(portableHasher('sha256').digest())).toBe(createHash('sha256').digest('hex'));
    expect(toHex(portableHasher('md5').digest())).toBe('d41d8cd98f00b204e9800998ecf8427e');
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 1000 }),
        fc.array(fc.nat(1000), { maxLength: 5 }),
        (bytes, cuts) => {
          for (const [algorithm, hasher] of [
            ['sha256', portableHasher('sha256')],
            ['md5', portableHasher('md5')],
          ] as const) {
            let at = 0;
            for (const cut of [...cuts, bytes.length]) {
              hasher.update(bytes.subarray(at, Math.max(at, cut)));
              at = Math.max(at, cut);
            }
            hasher.update(bytes.subarray(at));
            expect(toHex(hasher.digest())).toBe(createHash(algorithm).update(bytes).digest('hex'));
          }
        },
      ),
    );
    const long = new Uint8Array(3 * 1024 * 1024 + 17).fill(0xa5);
    const md5 = portableHasher('md5');
    md5.update(long);
    expect(toHex(md5.digest())).toBe(createHash('md5').update(long).digest('hex'));
  });
});

describe('superblock', () => {
  const encoded = encodeSuperblock({ stagingId, volumeNumber: 7, createdAtMs: 1_700_000_000_000 });

  it('round-trips', () => {
    expect(encoded.length).toBe(SUPERBLOCK_SIZE);
    expect(decodeSuperblock(encoded)).toEqual({
      formatVersion: 1,
      stagingId,
      volumeNumber: 7,
      createdAtMs: 1_700_000_000_000,
    });
  });

  it('detects any flipped byte, naming the volume and offset 0', () => {
    fc.assert(
      fc.property(fc.nat(SUPERBLOCK_SIZE - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const damaged = encoded.slice();
        damaged[at]! ^= xor;
        expect(() => decodeSuperblock(damaged, 'v.vhd')).toThrow(
          expect.objectContaining({ code: 'VOLUME_BAD_SUPERBLOCK', path: 'v.vhd', offset: 0 }),
        );
      }),
    );
  });

  it('refuses a future version with its own code', () => {
    const future = encoded.slice();
    new DataView(future.buffer).setUint32(8, 2);
    new DataView(future.buffer).setUint32(
      SUPERBLOCK_SIZE - 4,
      crc32(future.subarray(0, SUPERBLOCK_SIZE - 4)),
    );
    expect(codeOf(() => decodeSuperblock(future))).toBe('STAGING_UNSUPPORTED_VERSION');
    expect(codeOf(() => decodeSuperblock(new Uint8Array(100)))).toBe('VOLUME_BAD_SUPERBLOCK');
  });
});

describe('record header', () => {
  const id = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
  const stored = new TextEncoder().encode('stored bytes');
  const header = encodeRecordHeader(RecordType.tree, id, 123_456, stored);

  it('round-trips and checks the CRC over header and stored bytes', () => {
    expect(decodeRecordHeader(header)).toMatchObject({
      type: RecordType.tree,
      id,
      rawLength: 123_456,
      storedLength: stored.length,
    });
    expect(recordCrcMatches(header, stored)).toBe(true);
    fc.assert(
      fc.property(
        fc.nat(RECORD_HEADER_SIZE + stored.length - 1),
        fc.integer({ min: 1, max: 255 }),
        (at, xor) => {
          const h = header.slice();
          const s = stored.slice();
          if (at < RECORD_HEADER_SIZE) h[at]! ^= xor;
          else s[at - RECORD_HEADER_SIZE]! ^= xor;
          const decoded = decodeRecordHeader(h);
          // Either the header itself is refused, or the CRC catches the flip.
          expect(typeof decoded === 'string' || !recordCrcMatches(h, s)).toBe(true);
        },
      ),
    );
  });

  it('refuses what is not a header, without trusting its lengths', () => {
    expect(decodeRecordHeader(new Uint8Array(RECORD_HEADER_SIZE))).toBe('no record magic');
    const huge = header.slice();
    new DataView(huge.buffer).setUint32(8, 0xffff_ffff);
    expect(decodeRecordHeader(huge)).toMatch(/exceeds/);
    const unknown = header.slice();
    unknown[4] = 9;
    expect(decodeRecordHeader(unknown)).toMatch(/unknown record type/);
    expect(decodeRecordHeader(header.subarray(0, 20))).toBe('header cut off');
  });
});

describe('trailer', () => {
  const trailer = {
    stagingId,
    volumeNumber: 3,
    recordCount: 2,
    index: { offset: 10_000, length: 96 },
    catalog: { offset: 10_096, length: 20 },
    table: { offset: 10_116, length: 32 },
    tableSha256: new Uint8Array(32).fill(9),
    sealedAtMs: 1_800_000_000_000,
  };
  const at = 2 * 1024 * 1024 - TRAILER_SIZE;

  it('round-trips', () => {
    expect(decodeTrailer(encodeTrailer(trailer), at, SUPERBLOCK_SIZE)).toEqual({
      formatVersion: 1,
      ...trailer,
    });
  });

  it('refuses sections that overlap, leave gaps or point outside, whatever the values', () => {
    const section = fc.record({ offset: fc.nat(3_000_000), length: fc.nat(3_000_000) });
    fc.assert(
      fc.property(section, section, section, (index, catalog, table) => {
        const bytes = encodeTrailer({ ...trailer, index, catalog, table });
        const code = codeOf(() => decodeTrailer(bytes, at, SUPERBLOCK_SIZE, 'v.vhd'));
        if (code === undefined) {
          expect(index.offset).toBeGreaterThanOrEqual(SUPERBLOCK_SIZE);
          expect(table.offset + table.length).toBeLessThanOrEqual(at);
        } else {
          expect(code).toBe('VOLUME_BAD_TRAILER');
        }
      }),
    );
    expect(codeOf(() => decodeTrailer(new Uint8Array(TRAILER_SIZE), at, SUPERBLOCK_SIZE))).toBe(
      'VOLUME_NOT_SEALED',
    );
  });
});

describe('staging.json', () => {
  const descriptor: StagingDescriptor = {
    format: 'offline-seed.staging',
    version: 1,
    stagingId: '0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0',
    createdAt: '2026-11-23T10:00:00.000Z',
    job: {
      jobName: 'j',
      subscriptionId: 's',
      resourceGroup: 'r',
      storageAccountId: 'a',
      container: 'c',
    },
    crypto: { kdf: 'scrypt', salt: 'aa', keyCheck: 'bb', N: 16384 },
    chunker: { avgSize: 1048576 },
    maxVolumeSize: 1024 ** 4,
    volumes: [
      {
        number: 1,
        file: 'volumes/000001.vhd',
        state: 'sealed',
        createdAt: '2026-11-23T10:00:00.000Z',
        sealedAt: '2026-11-23T11:00:00.000Z',
        size: 2 * 1024 * 1024 + 512,
        recordCount: 3,
        transferHashes: { file: 'volumes/000001.vhd.ranges.json', sha256: 'ab' },
      },
      {
        number: 2,
        file: 'volumes/000002.vhd',
        state: 'open',
        createdAt: '2026-11-23T11:00:00.000Z',
      },
    ],
    snapshots: [
      { id: 's1', time: '2026-11-23T10:30:00.000Z', rootId: 'cd', stats: { files: 3 }, volume: 1 },
    ],
  };
  const parse = (value: unknown) =>
    parseDescriptor(new TextEncoder().encode(JSON.stringify(value)), '/loc/staging.json');
  const errorOf = (value: unknown) => {
    try {
      parse(value);
    } catch (error) {
      return error as { code: string; message: string; path: string };
    }
    return undefined;
  };

  it('round-trips', () => {
    expect(parseDescriptor(serializeDescriptor(descriptor), 'staging.json')).toEqual(descriptor);
  });

  it('refuses files that are not ours, or of another version', () => {
    expect(errorOf({ format: 'something-else' })).toMatchObject({
      code: 'STAGING_NOT_A_LOCATION',
      path: '/loc/staging.json',
    });
    expect(errorOf([1, 2])?.code).toBe('STAGING_NOT_A_LOCATION');
    expect(errorOf({ ...descriptor, version: 2 })?.code).toBe('STAGING_UNSUPPORTED_VERSION');
    expect(codeOf(() => parseDescriptor(new TextEncoder().encode('{"format": '), 'x'))).toBe(
      'STAGING_BAD_DESCRIPTOR',
    );
    expect(codeOf(() => parseDescriptor(Uint8Array.of(0xff, 0xfe), 'x'))).toBe(
      'STAGING_BAD_DESCRIPTOR',
    );
  });

  it('names the first bad field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...descriptor, stagingId: 'nope' }, /"descriptor\.stagingId"/],
      [
        { ...descriptor, job: { ...descriptor.job, container: '' } },
        /"descriptor\.job\.container"/,
      ],
      [{ ...descriptor, crypto: { kdf: 'scrypt' } }, /"descriptor\.crypto\.salt"/],
      [{ ...descriptor, maxVolumeSize: 9 * 1024 ** 4 }, /"descriptor\.maxVolumeSize"/],
      [{ ...descriptor, volumes: [descriptor.volumes[1]] }, /"descriptor\.volumes\[0\]\.number"/],
      [
        { ...descriptor, volumes: [{ ...descriptor.volumes[0], size: undefined }] },
        /"descriptor\.volumes\[0\]"/,
      ],
      [
        {
          ...descriptor,
          volumes: [
            { ...descriptor.volumes[1], number: 1, file: 'volumes/000001.vhd' },
            descriptor.volumes[1],
          ],
        },
        /state/,
      ],
      [
        { ...descriptor, snapshots: [{ ...descriptor.snapshots[0], volume: 3 }] },
        /"descriptor\.snapshots\[0\]\.volume"/,
      ],
      [
        { ...descriptor, snapshots: [{ ...descriptor.snapshots[0], time: 'yesterday' }] },
        /"descriptor\.snapshots\[0\]\.time"/,
      ],
    ];
    for (const [value, field] of cases) {
      const error = errorOf(value);
      expect(error?.code).toBe('STAGING_BAD_DESCRIPTOR');
      expect(error?.message).toMatch(field);
    }
  });
});

describe('transfer hashes sidecar', () => {
  const ranges = [
    { offset: 0, length: 4096, md5: 'a'.repeat(32) },
    { offset: 8192, length: 4 * 1024 * 1024, md5: 'b'.repeat(32) },
    { offset: 8192 + 4 * 1024 * 1024, length: 100, md5: 'c'.repeat(32) },
  ];
  const fileSize = 8192 + 4 * 1024 * 1024 + 100;

  it('round-trips', () => {
    expect(decodeTransferHashes(encodeTransferHashes(1, fileSize, ranges), 'x').ranges).toEqual(
      ranges,
    );
  });

  it('refuses ranges that overlap, are too long, unaligned, or outside the file', () => {
    const bad = [
      [ranges[1], ranges[0]],
      [{ offset: 0, length: 4 * 1024 * 1024 + 512, md5: 'a'.repeat(32) }],
      [{ offset: 100, length: 512, md5: 'a'.repeat(32) }],
      [{ offset: 0, length: 100, md5: 'a'.repeat(32) }],
      [{ offset: fileSize, length: 512, md5: 'a'.repeat(32) }],
      [{ offset: 0, length: 512, md5: 'xyz' }],
    ];
    for (const list of bad) {
      expect(codeOf(() => decodeTransferHashes(encodeTransferHashes(1, fileSize, list), 'x'))).toBe(
        'STAGING_BAD_DESCRIPTOR',
      );
    }
    expect(codeOf(() => decodeTransferHashes(new TextEncoder().encode('{}'), 'x'))).toBe(
      'STAGING_BAD_DESCRIPTOR',
    );
  });
});

describe('BlobIndex', () => {
  it('behaves as a map of ids, also with ids that share long prefixes', () => {
    const id = fc.uint8Array({ minLength: 32, maxLength: 32 });
    const sharedPrefix = fc.nat(255).map((last) => {
      const bytes = new Uint8Array(32).fill(7);
      bytes[31] = last;
      return bytes;
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(id, sharedPrefix), { maxLength: 3000 }), (ids) => {
        const index = new BlobIndex();
        const model = new Map<string, number>();
        ids.forEach((bytes, n) => {
          const key = toHex(bytes);
          expect(index.add(bytes, { volume: 1, offset: n, storedLength: n, type: 'data' })).toBe(
            !model.has(key),
          );
          if (!model.has(key)) model.set(key, n);
        });
        expect(index.size).toBe(model.size);
        for (const bytes of ids) expect(index.get(bytes)?.offset).toBe(model.get(toHex(bytes)));
        expect(index.has(new Uint8Array(32).fill(1))).toBe(
          model.has(toHex(new Uint8Array(32).fill(1))),
        );
        expect(index.has(new Uint8Array(31))).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('stays compact: under 80 bytes per blob for 200 000 blobs (57 when its arrays are full)', () => {
    const index = new BlobIndex();
    const id = new Uint8Array(32);
    for (let n = 0; n < 200_000; n++) {
      new DataView(id.buffer).setUint32(0, Math.imul(n, 0x9e37_79b1));
      new DataView(id.buffer).setUint32(28, n);
      index.add(id, { volume: 1, offset: n * 100, storedLength: 100, type: 'data' });
    }
    expect(index.size).toBe(200_000);
    expect(index.bytesPerEntry).toBeLessThan(80);
  });
});

describe('StreamHasher', () => {
  /** Data with zero runs of every length class: sectors, partial sectors, more than 4 MiB. */
  const data = fc
    .array(
      fc.oneof(
        fc.record({
          zero: fc.constant(true),
          length: fc.oneof(fc.nat(1500), fc.constantFrom(512, 4096, 4 * 1024 * 1024 + 512)),
        }),
        fc.record({
          zero: fc.constant(false),
          length: fc.oneof(
            fc.integer({ min: 1, max: 3000 }),
            fc.constantFrom(4 * 1024 * 1024, 5 * 1024 * 1024),
          ),
        }),
      ),
      { maxLength: 8 },
    )
    .map((parts) => {
      const total = parts.reduce((sum, part) => sum + part.length, 0);
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const part of parts) {
        if (!part.zero)
          for (let i = 0; i < part.length; i++) bytes[at + i] = ((at + i) * 131 + 1) % 251 || 1;
        at += part.length;
      }
      return bytes;
    });

  it('gives SHA-256 per 2 MiB block and the finder’s ranges with their MD5, however the data is pushed, in a worker or not, in MD5 lanes or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        data,
        fc.array(fc.integer({ min: 1, max: 3_000_000 }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.boolean(),
        async (bytes, cuts, inThread, lanes) => {
          const expected = expectedTransferRanges(bytes);
          const hasher = new StreamHasher({ inThread, lanes });
          const blockData: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            // At most about 2000 pieces, so that tiny cuts of large data stay quick.
            const cut = Math.max(cuts[i % cuts.length]!, Math.ceil(bytes.length / 2000));
            const length = Math.min(cut, bytes.length - at);
            const piece = bytes.subarray(at, at + length);
            // Zero pieces are skipped rather than pushed half of the time, as sealing does with
            // padding; every third piece is pushed but kept out of the blocks, as sealing does with
            // the checksum table itself.
            if (i % 2 === 1 && piece.every((b) => b === 0)) hasher.skipZeros(length);
            else if (i % 3 === 2) hasher.push(piece, { blocks: false });
            else {
              hasher.push(piece);
              blockData.push(piece);
            }
            at += length;
          }
          const blocks = Buffer.concat(blockData);
          const table = Buffer.concat(
            Array.from({ length: Math.ceil(blocks.length / (2 * 1024 * 1024)) }, (_, b) =>
              createHash('sha256')
                .update(blocks.subarray(b * 2 * 1024 * 1024, (b + 1) * 2 * 1024 * 1024))
                .digest(),
            ),
          );
          expect(Buffer.from(await hasher.blockTable()).equals(table)).toBe(true);
          expect(await hasher.end()).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});
