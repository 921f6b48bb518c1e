// Whatever bytes a damaged or hostile store hands back, the readers answer with a typed error
// (or a valid result), never a crash, a hang or a huge allocation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlobCodec } from './blob/codec.ts';
import { decodeTree } from './catalog/format.ts';
import { createKeys } from './crypto/keys.ts';
import { DedupIndex } from './dedup/index.ts';
import { ChunkEngineError } from './errors.ts';

const { keys } = await createKeys('hostile input passphrase', { scrypt: { N: 1024 } });
const codecs = [
  new BlobCodec(),
  new BlobCodec({ keys }),
  new BlobCodec({ compression: 'deflate' }),
];

function typedOrOk(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ChunkEngineError);
  }
}

describe('hostile input', () => {
  it('opening arbitrary blob bytes fails with a ChunkEngineError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: -5, max: 2 ** 40 }),
        fc.constantFrom('data' as const, 'tree' as const),
        fc.nat({ max: 2 }),
        async (bytes, id, rawLength, type, which) => {
          // Headers that look right make the fuzzing reach the decoders and the cipher.
          const framed =
            bytes.length >= 4
              ? Uint8Array.of(1, bytes[1]! % 3, bytes[2]! % 2, 0, ...bytes.subarray(4))
              : bytes;
          for (const candidate of [bytes, framed]) {
            const error = await codecs[which]!.open({ id, type, rawLength, bytes: candidate }).then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(error).toBeInstanceOf(ChunkEngineError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decoding arbitrary JSON as a tree blob gives a valid tree or CATALOG_CORRUPT', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom('root' as const, 'page' as const, 'chunk-list' as const),
        (value, kind) => {
          typedOrOk(() => decodeTree(new TextEncoder().encode(JSON.stringify(value)), kind));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('loading arbitrary bytes as a dedup index gives INDEX_CORRUPT', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(() => DedupIndex.deserialize(bytes)).toThrow(ChunkEngineError);
      }),
    );
  });
});
