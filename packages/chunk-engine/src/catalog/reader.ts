import type { BlobCodec } from '../blob/codec.ts';
import type { BlobSource, SinkBlob } from '../blob/sink.ts';
import { fromHex } from '../bytes.ts';
import { ChunkEngineError } from '../errors.ts';
import {
  type CatalogEntry,
  type DirectoryEntry,
  decodeTree,
  type FileEntry,
  type TreeBlob,
} from './format.ts';
import type { DirectoryPage } from './writer.ts';

/** Options of the catalog readers. */
export interface ReadOptions {
  abortSignal?: AbortSignal;
}

/** Options of {@link BlobOpener.open}. */
export interface OpenOptions {
  /**
   * Hand the blob's bytes over, as `postMessage` transfers: an opener on another thread takes
   * them without a copy, and the caller must not use them afterwards.
   */
  transfer?: boolean;
}

/** Opens (authenticates, decrypts, decompresses, verifies) stored blobs: a `BlobCodec`, or a pool. */
export interface BlobOpener {
  open(blob: SinkBlob, options?: OpenOptions): Promise<Uint8Array>;
}

/**
 * Reads a snapshot's catalog from a blob source, one tree blob at a time, verifying every blob
 * (authentication and id).
 */
export class CatalogReader {
  readonly #source: BlobSource;
  readonly #codec: BlobCodec;

  constructor(source: BlobSource, codec: BlobCodec) {
    this.#source = source;
    this.#codec = codec;
  }

  /**
   * Fetches, opens and verifies one blob (with `options.opener` instead of the codec if given,
   * e.g. a `SealPool` to open data blobs on worker threads).
   *
   * @throws {@link ChunkEngineError} `BLOB_NOT_FOUND` when the source has no such blob, or the
   *   codec's errors when it is damaged.
   */
  async readBlob(
    idHex: string,
    options: ReadOptions & { opener?: BlobOpener } = {},
  ): Promise<Uint8Array> {
    // The blob was fetched for this call alone: an opener may take its bytes.
    return (options.opener ?? this.#codec).open(await this.fetchBlob(idHex, options), {
      transfer: true,
    });
  }

  /**
   * Fetches one stored blob without opening it, carrying the id asked for (opening verifies
   * against that id, not the one the source claims).
   *
   * @throws {@link ChunkEngineError} `BLOB_NOT_FOUND` when the source has no such blob.
   */
  async fetchBlob(idHex: string, options: ReadOptions = {}): Promise<SinkBlob> {
    const id = fromHex(idHex, 32);
    if (id === undefined) throw new ChunkEngineError('CATALOG_CORRUPT', `bad blob id "${idHex}"`);
    let blob: SinkBlob;
    try {
      blob = await this.#source.get(id, options);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (
        error instanceof ChunkEngineError ||
        typeof code !== 'string' ||
        !code.endsWith('NOT_FOUND')
      )
        throw error;
      throw new ChunkEngineError('BLOB_NOT_FOUND', `blob ${idHex} is missing from the source`, {
        blobId: idHex,
        cause: error,
      });
    }
    return { ...blob, id };
  }

  async #readTree<K extends TreeBlob['kind']>(idHex: string, kind: K, options: ReadOptions) {
    return decodeTree(await this.readBlob(idHex, options), kind, idHex);
  }

  /** The root directory of the snapshot whose root tree blob is `rootId`. */
  async root(rootId: string, options: ReadOptions = {}): Promise<DirectoryEntry> {
    return (await this.#readTree(rootId, 'root', options)).root;
  }

  /** The pages of a directory, in order: each page's id and entries, one in memory at a time. */
  async *pages(
    directory: DirectoryEntry,
    options: ReadOptions = {},
  ): AsyncGenerator<DirectoryPage> {
    for (const id of directory.pages) {
      options.abortSignal?.throwIfAborted();
      yield { id, entries: (await this.#readTree(id, 'page', options)).entries };
    }
  }

  /** The entries of a directory, in name order, one page in memory at a time. */
  async *entries(
    directory: DirectoryEntry,
    options: ReadOptions = {},
  ): AsyncGenerator<CatalogEntry> {
    for await (const page of this.pages(directory, options)) yield* page.entries;
  }

  /** The chunk ids of a file, in order. */
  async *chunkIds(file: FileEntry, options: ReadOptions = {}): AsyncGenerator<string> {
    if (file.chunks) yield* file.chunks;
    for (const list of file.chunkLists ?? []) {
      options.abortSignal?.throwIfAborted();
      yield* (await this.#readTree(list, 'chunk-list', options)).chunks;
    }
  }

  /**
   * The entry at `path` (`/`-separated, relative to the snapshot root; `''` is the root).
   *
   * @throws {@link ChunkEngineError} `PATH_NOT_FOUND`.
   */
  async find(rootId: string, path: string, options: ReadOptions = {}): Promise<CatalogEntry> {
    let entry: CatalogEntry = await this.root(rootId, options);
    for (const name of splitPath(path)) {
      let next: CatalogEntry | undefined;
      if (entry.type === 'dir') {
        for await (const child of this.entries(entry, options)) {
          if (child.name === name) {
            next = child;
            break;
          }
        }
      }
      if (next === undefined) {
        throw new ChunkEngineError('PATH_NOT_FOUND', `"${path}" is not in the snapshot`, { path });
      }
      entry = next;
    }
    return entry;
  }

  /**
   * Every entry under `path` (default: the whole snapshot), depth first, each directory before
   * its contents; memory grows with depth, not with the size of the tree.
   */
  async *list(
    rootId: string,
    options: ReadOptions & { path?: string } = {},
  ): AsyncGenerator<{ path: string; entry: CatalogEntry }> {
    const start = await this.find(rootId, options.path ?? '', options);
    const base = splitPath(options.path ?? '').join('/');
    yield { path: base, entry: start };
    if (start.type === 'dir') yield* this.#walk(start, base, options);
  }

  async *#walk(
    directory: DirectoryEntry,
    path: string,
    options: ReadOptions,
  ): AsyncGenerator<{ path: string; entry: CatalogEntry }> {
    for await (const entry of this.entries(directory, options)) {
      const childPath = path === '' ? entry.name : `${path}/${entry.name}`;
      yield { path: childPath, entry };
      if (entry.type === 'dir') yield* this.#walk(entry, childPath, options);
    }
  }
}

/** Path components of a snapshot path; empty components and `.` are dropped. */
export function splitPath(path: string): string[] {
  if (typeof path !== 'string') throw new TypeError(`"path" expected string, got ${typeof path}`);
  return path.split('/').filter((part) => part !== '' && part !== '.');
}
