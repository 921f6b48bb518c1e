// The portable paths (@noble/hashes, fflate, WebCrypto) as a browser would run them, checked
// against node:crypto and node:zlib: blobs and keys must be the same format either way.
import { createCipheriv, createDecipheriv, createHash, createHmac, scryptSync } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { BlobCodec } from './blob/codec.ts';
import { fromHex, toHex } from './bytes.ts';
import { compressionAvailable } from './compression/codecs.ts';
import { createKeys, unlockKeys } from './crypto/keys.ts';

vi.mock('./runtime.ts', () => ({ nodeCrypto: undefined, nodeZlib: undefined }));

const plaintext = new TextEncoder().encode('portable '.repeat(5000));
const passphrase = 'sixteen or more characters';

function aad(header: Uint8Array, type: number, rawLength: number, id: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 1 + 8 + 32);
  out.set(header);
  out[4] = type;
  new DataView(out.buffer).setBigUint64(5, BigInt(rawLength), true);
  out.set(id, 13);
  return out;
}

describe('without node:crypto and node:zlib', () => {
  it('has no zstd and falls back to deflate', () => {
    expect(compressionAvailable('zstd')).toBe(false);
    expect(new BlobCodec().compression).toBe('deflate');
  });

  it('derives the same keys as native scrypt', async () => {
    const { params, keys } = await createKeys(passphrase, { scrypt: { N: 1024, r: 8, p: 1 } });
    const master = scryptSync(passphrase, fromHex(params.kdf.salt)!, 32, { N: 1024, r: 8, p: 1 });
    expect(params.keyCheck).toBe(
      createHmac('sha256', master).update('offline-seed/chunk-engine/key-check/v1').digest('hex'),
    );
    expect(toHex(keys.id)).toBe(
      createHmac('sha256', master).update('offline-seed/chunk-engine/blob-id/v1').digest('hex'),
    );
    await expect(unlockKeys('not the passphrase at all', params)).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
    });
  });

  it('writes blobs that node:crypto and node:zlib open, per the documented format', async () => {
    const { keys } = await createKeys(passphrase, { scrypt: { N: 1024 } });
    const blob = await new BlobCodec({ keys }).seal('tree', plaintext);
    expect(toHex(blob.id)).toBe(createHmac('sha256', keys.id).update(plaintext).digest('hex'));
    const header = blob.bytes.subarray(0, 4);
    expect([...header]).toEqual([1, 2, 1, 0]);
    const nonce = blob.bytes.subarray(4, 16);
    const sealed = blob.bytes.subarray(16);
    const decipher = createDecipheriv('aes-256-gcm', keys.encryption, nonce).setAAD(
      aad(header, 1, plaintext.length, blob.id),
    );
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const compressed = Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - 16)),
      decipher.final(),
    ]);
    expect(new Uint8Array(inflateRawSync(compressed))).toEqual(plaintext);
  });

  it('opens blobs made with node:crypto and node:zlib, and detects tampering', async () => {
    const codec = new BlobCodec();
    const header = Uint8Array.of(1, 2, 0, 0);
    const bytes = new Uint8Array([...header, ...deflateRawSync(plaintext)]);
    const id = createHash('sha256').update(plaintext).digest();
    expect(await codec.open({ id, type: 'data', rawLength: plaintext.length, bytes })).toEqual(
      plaintext,
    );

    const { keys } = await createKeys(passphrase, { scrypt: { N: 1024 } });
    const keyed = new BlobCodec({ keys });
    const keyedId = createHmac('sha256', keys.id).update(plaintext).digest();
    const encryptedHeader = Uint8Array.of(1, 0, 1, 0);
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const cipher = createCipheriv('aes-256-gcm', keys.encryption, nonce).setAAD(
      aad(encryptedHeader, 0, plaintext.length, keyedId),
    );
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const blob = {
      id: keyedId,
      type: 'data' as const,
      rawLength: plaintext.length,
      bytes: new Uint8Array([...encryptedHeader, ...nonce, ...body]),
    };
    expect(await keyed.open(blob)).toEqual(plaintext);
    blob.bytes[20]! ^= 1;
    await expect(keyed.open(blob)).rejects.toMatchObject({ code: 'BLOB_AUTH_FAILED' });
  });

  it('reports zstd blobs as unsupported here rather than as damage', async () => {
    const codec = new BlobCodec({ compression: 'none' });
    const blob = await codec.seal('data', plaintext);
    blob.bytes[1] = 1;
    await expect(codec.open(blob)).rejects.toMatchObject({ code: 'BLOB_UNSUPPORTED' });
  });
});
