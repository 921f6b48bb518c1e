import { defaultChunkerParams } from '@offline-seed/chunk-engine';
import type { StagingDescriptor, StoredSnapshot } from '@offline-seed/staging-format';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blobParametersOf,
  defaultBlobParameters,
  describeBlobParameters,
  findSnapshot,
} from './location.ts';

const snapshot = (id: string): StoredSnapshot => ({
  id,
  time: '2026-01-01T00:00:00.000Z',
  rootId: '00'.repeat(32),
  stats: {},
  volume: 1,
});

describe('findSnapshot', () => {
  const all = [snapshot('aaaa1111'), snapshot('aaaa2222'), snapshot('bbbb3333')];

  it('finds the latest, a full id and an unambiguous prefix', () => {
    expect(findSnapshot(all, undefined, 'loc').id).toBe('bbbb3333');
    expect(findSnapshot(all, 'latest', 'loc').id).toBe('bbbb3333');
    expect(findSnapshot(all, 'aaaa2222', 'loc').id).toBe('aaaa2222');
    expect(findSnapshot(all, 'bbbb', 'loc').id).toBe('bbbb3333');
  });

  it('refuses ambiguous, short, unknown ids and empty locations', () => {
    for (const ref of ['aaaa', 'bbb', 'cccc']) {
      expect(() => findSnapshot(all, ref, 'loc')).toThrow(
        expect.objectContaining({ code: 'SNAPSHOT_NOT_FOUND' }),
      );
    }
    expect(() => findSnapshot([], undefined, 'loc')).toThrow(/holds no snapshot/);
    expect(() => findSnapshot(all, 'aaaa', 'loc')).toThrow(/ambiguous/);
  });
});

describe('blob parameters in the descriptor', () => {
  const descriptorWith = (chunker: StagingDescriptor['chunker']) =>
    ({ chunker }) as unknown as StagingDescriptor;

  it('read back what was recorded', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 20 }),
        fc.integer({ min: 0, max: 3 }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.constantFrom('zstd', 'deflate', 'none') as fc.Arbitrary<'zstd' | 'deflate' | 'none'>,
        fc.option(fc.integer({ min: 1, max: 19 }), { nil: undefined }),
        (log2, level, seed, compression, compressionLevel) => {
          const avgSize = 2 ** log2;
          const parameters = {
            chunker: { minSize: avgSize / 4, avgSize, maxSize: avgSize * 4, level, seed },
            compression,
            compressionLevel,
          };
          const json = JSON.parse(JSON.stringify(describeBlobParameters(parameters)));
          expect(blobParametersOf(descriptorWith(json), 'x')).toEqual(parameters);
        },
      ),
    );
  });

  it("defaults to the chunk engine's chunker and zstd level 3", () => {
    expect(defaultBlobParameters()).toEqual({
      chunker: defaultChunkerParams,
      compression: 'zstd',
      compressionLevel: 3,
    });
  });

  it('refuses parameters this version does not write', () => {
    const good = describeBlobParameters(defaultBlobParameters());
    const variants: Array<Record<string, unknown>> = [
      { ...good, algorithm: 'rabin' },
      { ...good, avgSize: 'big' },
      { ...good, seed: -1 },
      { ...good, compression: 'lz4' },
      { ...good, minSize: 1 },
      { ...good, compressionLevel: 1.5 },
    ];
    for (const chunker of variants) {
      expect(() =>
        blobParametersOf(
          descriptorWith(chunker as StagingDescriptor['chunker']),
          'loc/staging.json',
        ),
      ).toThrow(
        expect.objectContaining({ code: 'STAGING_BAD_PARAMETERS', path: 'loc/staging.json' }),
      );
    }
  });
});
