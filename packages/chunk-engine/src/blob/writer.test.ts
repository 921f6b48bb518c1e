import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { toHex } from '../bytes.ts';
import { DedupIndex } from '../dedup/index.ts';
import { BlobCodec } from './codec.ts';
import { MemoryBlobStore } from './memory-store.ts';
import { BlobWriter } from './writer.ts';

const encode = (text: string) => new TextEncoder().encode(text);

describe('BlobWriter', () => {
  it('puts each new blob once, one put at a time, and counts duplicates', async () => {
    const store = new MemoryBlobStore();
    let active = 0;
    let maxActive = 0;
    const realPut = store.put.bind(store);
    vi.spyOn(store, 'put').mockImplementation(async (blob) => {
      maxActive = Math.max(maxActive, ++active);
      await new Promise((resolve) => setTimeout(resolve, 1));
      await realPut(blob);
      active--;
    });
    const writer = new BlobWriter(store, new BlobCodec());
    const texts = ['a', 'b', 'a', 'c', 'b', 'd', 'a'];
    const results = await Promise.all(texts.map((t) => writer.write('data', encode(t))));
    expect(results.filter((r) => r.stored)).toHaveLength(4);
    expect(maxActive).toBe(1);
    expect(store.size).toBe(4);
    expect(writer.stats).toMatchObject({ newBlobs: 4, duplicateBlobs: 3, newRawBytes: 4 });
    expect(writer.index.size).toBe(4);
  });

  it('asks the sink about ids the index does not know, and fails every write after a failed put', async () => {
    const store = new MemoryBlobStore();
    await store.put(await new BlobCodec().seal('data', encode('stored before')));
    const writer = new BlobWriter(store, new BlobCodec());
    expect((await writer.write('data', encode('stored before'))).stored).toBe(false);
    vi.spyOn(store, 'put').mockRejectedValueOnce(new Error('disk full'));
    await expect(writer.write('data', encode('x'))).rejects.toThrow('disk full');
    await expect(writer.write('data', encode('y'))).rejects.toThrow('disk full');
    await expect(writer.flush()).rejects.toThrow('disk full');
  });

  it('seals only blobs that are not stored yet, and each new one once', async () => {
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    await store.put(await codec.seal('data', encode('in the sink')));
    const writer = new BlobWriter(store, codec);
    await writer.write('data', encode('in the index'));
    const sealSpy = vi.spyOn(codec, 'seal');
    const results = await Promise.all(
      ['in the sink', 'in the index', 'new', 'new', 'new'].map((t) =>
        writer.write('data', encode(t)),
      ),
    );
    expect(results.map((r) => r.stored)).toEqual([false, false, true, false, false]);
    expect(sealSpy).toHaveBeenCalledTimes(1);
    expect(sealSpy.mock.calls[0]![1]).toEqual(encode('new'));
    // A given id is used as is, not computed again.
    const idSpy = vi.spyOn(codec, 'blobId');
    const id = codec.blobId(encode('given'));
    idSpy.mockClear();
    expect((await writer.write('data', encode('given'), { id })).id).toBe(id);
    expect(idSpy).not.toHaveBeenCalled();
    // A given id of the wrong size is refused before anything is sealed or put.
    const before = store.size;
    await expect(
      writer.write('data', encode('bad id'), { id: new Uint8Array(31) }),
    ).rejects.toThrow(TypeError);
    expect(store.size).toBe(before);
    expect(sealSpy).toHaveBeenCalledTimes(2);
  });

  it('fails every later write and the flush after a failed seal', async () => {
    const codec = new BlobCodec();
    const store = new MemoryBlobStore();
    const writer = new BlobWriter(store, codec);
    vi.spyOn(codec, 'seal').mockRejectedValueOnce(new Error('sealer crashed'));
    await expect(writer.write('data', encode('a'))).rejects.toThrow('sealer crashed');
    await expect(writer.write('data', encode('b'))).rejects.toThrow('sealer crashed');
    await expect(writer.flush()).rejects.toThrow('sealer crashed');
    expect(store.size).toBe(0);
  });

  it('seals exactly the distinct contents stored nowhere yet, whatever the interleaving', async () => {
    const codec = new BlobCodec({ compression: 'none' });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 30 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { maxLength: 4 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { maxLength: 4 }),
        async (writes, inSink, inIndex) => {
          const content = (n: number) => encode(`content ${n}`);
          const store = new MemoryBlobStore();
          for (const n of inSink) await store.put(await codec.seal('data', content(n)));
          const index = new DedupIndex();
          for (const n of inIndex) index.add(codec.blobId(content(n)));
          const sealed: string[] = [];
          const sealer = {
            blobId: (plaintext: Uint8Array) => codec.blobId(plaintext),
            seal: async (type: 'data' | 'tree', plaintext: Uint8Array, id?: Uint8Array) => {
              sealed.push(new TextDecoder().decode(plaintext));
              await new Promise((resolve) => setTimeout(resolve, plaintext.length % 3));
              return codec.seal(type, plaintext, id);
            },
          };
          const writer = new BlobWriter(store, sealer, index);
          const results = await Promise.all(writes.map((n) => writer.write('data', content(n))));
          await writer.flush();
          const known = new Set([...inSink, ...inIndex]);
          const expected = [...new Set(writes)].filter((n) => !known.has(n));
          expect(sealed.sort()).toEqual(expected.map((n) => `content ${n}`).sort());
          expect(writer.stats.newBlobs).toBe(expected.length);
          expect(writer.stats.duplicateBlobs).toBe(writes.length - expected.length);
          for (const [i, n] of writes.entries()) {
            expect(toHex(results[i]!.id)).toBe(toHex(codec.blobId(content(n))));
          }
          for (const n of expected) expect(store.has(codec.blobId(content(n)))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});
