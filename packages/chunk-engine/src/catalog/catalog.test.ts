import { describe, expect, it } from 'vitest';
import { BlobCodec } from '../blob/codec.ts';
import { MemoryBlobStore } from '../blob/memory-store.ts';
import { BlobWriter } from '../blob/writer.ts';
import { toHex } from '../bytes.ts';
import {
  type CatalogEntry,
  decodeTree,
  encodeTree,
  type FileEntry,
  type TreeBlob,
} from './format.ts';
import { CatalogReader } from './reader.ts';
import {
  ChunkRefs,
  chunkListSize,
  type DirectoryPage,
  DirectoryPages,
  inlineChunkLimit,
  maxPageBytes,
} from './writer.ts';

const codec = new BlobCodec();
const hexId = (n: number) => n.toString(16).padStart(64, '0');
const file = (name: string, extra: Partial<FileEntry> = {}): FileEntry => ({
  name,
  type: 'file',
  mode: 0o644,
  mtimeNs: '1700000000000000000',
  size: 0,
  chunks: [],
  ...extra,
});

function setup() {
  const store = new MemoryBlobStore();
  const writer = new BlobWriter(store, codec);
  const write = async (tree: TreeBlob) => toHex((await writer.write('tree', encodeTree(tree))).id);
  return { store, write, reader: new CatalogReader(store, codec) };
}

describe('catalog', () => {
  it('splits a big directory into pages and streams it back in order', async () => {
    const { write, reader } = setup();
    const pages = new DirectoryPages(write, { pageSize: 100 });
    const names = Array.from({ length: 1234 }, (_, i) => `file-${String(i).padStart(5, '0')}`);
    for (const name of names) await pages.add(file(name));
    const dir = {
      name: '',
      type: 'dir' as const,
      mode: 0o755,
      mtimeNs: '0',
      pages: await pages.finish(),
    };
    expect(dir.pages).toHaveLength(13);
    const rootId = await write({ version: 1, kind: 'root', root: dir });
    const listed: string[] = [];
    for await (const { path } of reader.list(rootId)) listed.push(path);
    expect(listed).toEqual(['', ...names]);
    await expect(reader.find(rootId, 'file-00042')).resolves.toMatchObject({ name: 'file-00042' });
    await expect(reader.find(rootId, 'nope/x')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await expect(reader.find(rootId, '../file-00001')).rejects.toMatchObject({
      code: 'PATH_NOT_FOUND',
    });
  });

  it('keeps the ids of pages that come out as in the previous snapshot, writing only the others', async () => {
    const { write, reader } = setup();
    const names = Array.from({ length: 250 }, (_, i) => `file-${String(i).padStart(5, '0')}`);
    let writes = 0;
    const counted = (tree: TreeBlob) => {
      writes++;
      return write(tree);
    };
    const pagesOf = async (entries: CatalogEntry[], previous?: DirectoryPage[]) => {
      const pages = new DirectoryPages(counted, { pageSize: 100, previous });
      for (const entry of entries) await pages.add(entry);
      return pages.finish();
    };
    const first = await pagesOf(names.map((name) => file(name, { chunks: [hexId(1)] })));
    const dir = { name: 'd', type: 'dir' as const, mode: 0o755, mtimeNs: '0', pages: first };
    const previous: DirectoryPage[] = [];
    for await (const page of reader.pages(dir)) previous.push(page);
    expect(previous.map((page) => page.id)).toEqual(first);

    expect(writes).toBe(3);
    // Parsed back from the store, equal field by field: nothing is written again.
    const same = previous.flatMap((page) => page.entries.map((entry) => ({ ...entry })));
    expect(await pagesOf(same, previous)).toEqual(first);
    expect(writes).toBe(3);
    // One entry of the second page changed: only that page is new.
    const edited = same.map((entry, i) => (i === 150 ? { ...entry, size: 1 } : entry));
    const afterEdit = await pagesOf(edited, previous);
    expect(afterEdit[0]).toBe(first[0]);
    expect(afterEdit[1]).not.toBe(first[1]);
    expect(afterEdit[2]).toBe(first[2]);
    expect(writes).toBe(4);
    // An entry inserted on the first page moves every later entry: every page is new.
    const inserted = [same[0]!, file('file-00000a'), ...same.slice(1)];
    const afterInsert = await pagesOf(inserted, previous);
    expect(afterInsert.filter((id) => first.includes(id))).toEqual([]);
    const listed: string[] = [];
    for await (const entry of reader.entries({ ...dir, pages: afterInsert }))
      listed.push(entry.name);
    expect(listed).toEqual(inserted.map((entry) => entry.name));
  });

  it('starts a new page before a page of large-file entries grows past 4 MiB', async () => {
    const { write, reader } = setup();
    const pages = new DirectoryPages(write);
    const chunks = Array.from({ length: inlineChunkLimit }, (_, i) => hexId(i));
    for (let i = 0; i < 150; i++)
      await pages.add(file(`vm-${String(i).padStart(3, '0')}.img`, { chunks }));
    const ids = await pages.finish();
    expect(ids.length).toBeGreaterThanOrEqual(3);
    for (const id of ids)
      expect((await reader.readBlob(id)).length).toBeLessThan(maxPageBytes + 80_000);
  });

  it('keeps few chunk ids inline and spills many into chunk lists', async () => {
    const { write, reader } = setup();
    const small = new ChunkRefs(write);
    for (let i = 0; i < inlineChunkLimit; i++) await small.push(hexId(i));
    expect(await small.finish()).toEqual({
      chunks: Array.from({ length: inlineChunkLimit }, (_, i) => hexId(i)),
    });
    const large = new ChunkRefs(write);
    const count = chunkListSize * 2 + 5;
    for (let i = 0; i < count; i++) await large.push(hexId(i));
    const refs = await large.finish();
    expect(refs.chunkLists).toHaveLength(3);
    const ids: string[] = [];
    for await (const id of reader.chunkIds(file('big', refs))) ids.push(id);
    expect(ids).toHaveLength(count);
    expect(ids[count - 1]).toBe(hexId(count - 1));
  });

  it('keeps unicode and very long names intact', () => {
    const name = `${'\u{1F600}ü日本'.repeat(40)}.txt`;
    const tree: TreeBlob = { version: 1, kind: 'page', entries: [file(name)] };
    expect(decodeTree(encodeTree(tree), 'page').entries[0]!.name).toBe(name);
  });

  it.skipIf(process.platform === 'win32')(
    'accepts backslashes in names where they are not separators',
    () => {
      const name = 'system-systemd\\x2dcryptsetup.slice';
      const tree: TreeBlob = { version: 1, kind: 'page', entries: [file(name)] };
      expect(decodeTree(encodeTree(tree), 'page').entries[0]!.name).toBe(name);
    },
  );

  it('rejects hostile or malformed tree blobs with CATALOG_CORRUPT', () => {
    const bad: unknown[] = [
      { version: 1, kind: 'page', entries: [file('..')] },
      { version: 1, kind: 'page', entries: [file('a/b')] },
      { version: 1, kind: 'page', entries: [file('')] },
      { version: 1, kind: 'page', entries: [file('b'), file('a')] },
      { version: 1, kind: 'page', entries: [file('a'), file('a')] },
      { version: 1, kind: 'page', entries: [file('a', { size: -1 })] },
      { version: 1, kind: 'page', entries: [file('a', { mode: 0o10000 })] },
      { version: 1, kind: 'page', entries: [file('a', { chunks: ['xyz'] })] },
      { version: 1, kind: 'page', entries: [{ ...file('a'), type: 'device' }] },
      {
        version: 1,
        kind: 'page',
        entries: [{ name: 'l', type: 'symlink', mode: 0, mtimeNs: '0', target: '' }],
      },
      { version: 2, kind: 'page', entries: [] },
      { version: 1, kind: 'root', entries: [] },
      [],
    ];
    for (const tree of bad) {
      expect(() => decodeTree(new TextEncoder().encode(JSON.stringify(tree)), 'page')).toThrow(
        expect.objectContaining({ code: 'CATALOG_CORRUPT' }),
      );
    }
    expect(() => decodeTree(Uint8Array.of(0xff, 0xfe), 'page')).toThrow(
      expect.objectContaining({ code: 'CATALOG_CORRUPT' }),
    );
  });

  it('reports a missing tree blob as BLOB_NOT_FOUND and a wrong kind as CATALOG_CORRUPT', async () => {
    const { write, reader } = setup();
    const pageId = await write({ version: 1, kind: 'page', entries: [] as CatalogEntry[] });
    await expect(reader.root(pageId)).rejects.toMatchObject({ code: 'CATALOG_CORRUPT' });
    await expect(reader.root(hexId(5))).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    await expect(reader.root('not hex')).rejects.toMatchObject({ code: 'CATALOG_CORRUPT' });
  });
});
