import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { createKeys, unlockKeys } from '../crypto/keys.ts';
import { ChunkEngineError } from '../errors.ts';
import { BlobCodec, blobHeaderLength } from './codec.ts';

const fastScrypt = { N: 2 ** 10, r: 8, p: 1 };
const passphrase = 'correct horse battery staple';
const { keys } = await createKeys(passphrase, { scrypt: fastScrypt });
const text = new TextEncoder().encode('the same line over and over\n'.repeat(2000));
const random = crypto.getRandomValues(new Uint8Array(60000));

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChunkEngineError);
  expect((error as ChunkEngineError).code).toBe(code);
}

describe('BlobCodec', () => {
  it('names plain blobs by the SHA-256 of their plaintext', async () => {
    const blob = await new BlobCodec().seal('data', text);
    expect(toHex(blob.id)).toBe(createHash('sha256').update(text).digest('hex'));
    expect(blob).toMatchObject({ type: 'data', rawLength: text.length });
  });

  it('names encrypted blobs by a keyed HMAC, so ids do not reveal content', async () => {
    const blob = await new BlobCodec({ keys }).seal('data', text);
    expect(toHex(blob.id)).toBe(createHmac('sha256', keys.id).update(text).digest('hex'));
    expect(toHex(blob.id)).not.toBe(createHash('sha256').update(text).digest('hex'));
  });

  for (const compression of ['zstd', 'deflate', 'none'] as const) {
    for (const encrypted of [false, true]) {
      it(`round-trips with ${compression}${encrypted ? ', encrypted' : ''}`, async () => {
        const codec = new BlobCodec({ compression, keys: encrypted ? keys : undefined });
        for (const data of [text, random, new Uint8Array(0), new Uint8Array([1])]) {
          const blob = await codec.seal('data', data);
          expect(blob.bytes[0]).toBe(1);
          expect(await codec.open(blob)).toEqual(data);
        }
        const packed = await codec.seal('data', text);
        if (compression !== 'none') expect(packed.bytes.length).toBeLessThan(text.length / 10);
      });
    }
  }

  it('stores incompressible data raw, without trying to compress it', async () => {
    const blob = await new BlobCodec({ compression: 'deflate' }).seal('data', random);
    expect(blob.bytes[1]).toBe(0);
    expect(blob.bytes.length).toBe(random.length + blobHeaderLength);
  });

  it('uses a fresh nonce for every blob, even of the same content, and per codec instance', async () => {
    const codec = new BlobCodec({ keys });
    const nonces = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const blob = await codec.seal('data', text);
      nonces.add(toHex(blob.bytes.subarray(4, 16)));
    }
    const other = await new BlobCodec({ keys }).seal('data', text);
    nonces.add(toHex(other.bytes.subarray(4, 16)));
    expect(nonces.size).toBe(201);
  });

  it('fails authentication when any byte of an encrypted blob is changed', async () => {
    const codec = new BlobCodec({ keys });
    const blob = await codec.seal('data', text);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: blobHeaderLength, max: blob.bytes.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, flip) => {
          const bytes = blob.bytes.slice();
          bytes[at]! ^= flip;
          await expectCode(codec.open({ ...blob, bytes }), 'BLOB_AUTH_FAILED');
        },
      ),
      { numRuns: 50 },
    );
  });

  it('fails authentication when a blob is relabelled: other id, type or length', async () => {
    const codec = new BlobCodec({ keys });
    const blob = await codec.seal('data', text);
    const other = await codec.seal('data', random);
    await expectCode(codec.open({ ...blob, id: other.id }), 'BLOB_AUTH_FAILED');
    await expectCode(codec.open({ ...blob, type: 'tree' }), 'BLOB_AUTH_FAILED');
    await expectCode(codec.open({ ...blob, rawLength: blob.rawLength - 1 }), 'BLOB_AUTH_FAILED');
  });

  it('fails with the wrong keys', async () => {
    const blob = await new BlobCodec({ keys }).seal('data', text);
    const { keys: otherKeys } = await createKeys(passphrase, { scrypt: fastScrypt });
    await expectCode(new BlobCodec({ keys: otherKeys }).open(blob), 'BLOB_AUTH_FAILED');
  });

  it('reports damage to plain blobs as an id mismatch or a corrupt stream', async () => {
    const codec = new BlobCodec({ compression: 'none' });
    const blob = await codec.seal('data', text);
    const bytes = blob.bytes.slice();
    bytes[100]! ^= 1;
    await expectCode(codec.open({ ...blob, bytes }), 'BLOB_ID_MISMATCH');
    const zstd = new BlobCodec();
    const packed = await zstd.seal('data', text);
    await expectCode(zstd.open({ ...packed, bytes: packed.bytes.subarray(0, 12) }), 'BLOB_CORRUPT');
    await expectCode(zstd.open({ ...packed, rawLength: 10 }), 'BLOB_CORRUPT');
  });

  it('rejects malformed headers and blobs it cannot open', async () => {
    const codec = new BlobCodec();
    const blob = await codec.seal('data', text);
    await expectCode(codec.open({ ...blob, bytes: new Uint8Array(2) }), 'BLOB_CORRUPT');
    await expectCode(codec.open({ ...blob, bytes: Uint8Array.of(9, 0, 0, 0) }), 'BLOB_UNSUPPORTED');
    await expectCode(codec.open({ ...blob, bytes: Uint8Array.of(1, 7, 0, 0) }), 'BLOB_CORRUPT');
    await expectCode(codec.open({ ...blob, rawLength: -1 }), 'BLOB_CORRUPT');
    await expectCode(codec.open({ ...blob, id: new Uint8Array(3) }), 'BLOB_CORRUPT');
    await expectCode(new BlobCodec({ keys }).open(blob), 'BLOB_UNSUPPORTED');
    const sealed = await new BlobCodec({ keys }).seal('data', text);
    await expectCode(codec.open(sealed), 'BLOB_UNSUPPORTED');
  });

  it('validates its options', () => {
    expect(() => new BlobCodec({ compression: 'lz4' as 'zstd' })).toThrow(RangeError);
    expect(() => new BlobCodec({ compressionLevel: 1.5 })).toThrow(RangeError);
    expect(
      () => new BlobCodec({ keys: { encryption: new Uint8Array(16), id: new Uint8Array(32) } }),
    ).toThrow(TypeError);
  });
});

describe('keys', () => {
  it('unlocks with the same passphrase and reports a wrong one clearly', async () => {
    const created = await createKeys(passphrase, { scrypt: fastScrypt });
    expect(JSON.stringify(created.params)).not.toContain(passphrase);
    const unlocked = await unlockKeys(passphrase, created.params);
    expect(unlocked).toEqual(created.keys);
    const error = await unlockKeys('a different passphrase!', created.params).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(String((error as Error).message)).not.toContain('different');
  });

  it('treats composed and decomposed unicode passphrases alike', async () => {
    const created = await createKeys('caf\u00e9 au lait, s\u00f6 sch\u00f6n', {
      scrypt: fastScrypt,
    });
    await expect(
      unlockKeys('cafe\u0301 au lait, so\u0308 scho\u0308n', created.params),
    ).resolves.toEqual(created.keys);
  });

  it('requires at least 16 characters and sane scrypt costs', async () => {
    await expect(createKeys('fifteen chars!!')).rejects.toMatchObject({
      code: 'WEAK_PASSPHRASE',
    });
    await expect(createKeys(passphrase, { scrypt: { N: 1000 } })).rejects.toThrow(RangeError);
    await expect(createKeys(passphrase, { scrypt: { N: 2 ** 22, r: 32 } })).rejects.toThrow(
      /1 GiB/,
    );
  });

  it('rejects malformed or too costly stored parameters without running them', async () => {
    const { params } = await createKeys(passphrase, { scrypt: fastScrypt });
    for (const bad of [
      { ...params, version: 2 },
      { ...params, kdf: { ...params.kdf, name: 'pbkdf2' } },
      { ...params, kdf: { ...params.kdf, N: 2 ** 30 } },
      { ...params, kdf: { ...params.kdf, salt: 'zz' } },
      { ...params, keyCheck: 'abcd' },
      null,
    ]) {
      await expect(unlockKeys(passphrase, bad as typeof params)).rejects.toMatchObject({
        code: 'BAD_KEY_PARAMS',
      });
    }
  });
});
