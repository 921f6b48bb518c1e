import type { CatalogEntry, FileEntry, TreeBlob } from './format.ts';

/** Stores a tree blob and resolves to its hex id. */
export type TreeWrite = (tree: TreeBlob) => Promise<string>;

/** Entries per directory page. */
export const defaultPageSize = 1000;
/**
 * JSON bytes after which a page is written even with fewer entries: entries of large files carry
 * up to 1000 inline chunk ids (~67 KB), and a page must stay a modest blob.
 */
export const maxPageBytes = 4 * 1024 * 1024;
/** Chunk ids kept inline in a file entry; more go to chunk-list blobs. */
export const inlineChunkLimit = 1000;
/** Chunk ids per chunk-list blob (≈270 KB of JSON; 10 TB at 1 MiB chunks = 2,500 lists). */
export const chunkListSize = 4096;

/** A page of a directory as a catalog holds it: its blob id and its entries. */
export interface DirectoryPage {
  id: string;
  entries: readonly CatalogEntry[];
}

/** Options of {@link DirectoryPages}. */
export interface DirectoryPagesOptions {
  /** Entries per page; default 1000. */
  pageSize?: number;
  /**
   * The same directory's pages in the previous snapshot, in order (`CatalogReader.pages`): a page
   * whose entries come out equal to the previous page at its position keeps that page's id and is
   * not encoded, hashed or written again, so an unchanged directory costs no tree writes. Those
   * pages must be in the store the new ones go to.
   */
  previous?: readonly DirectoryPage[];
}

/**
 * Collects a directory's entries (added in name order) into page blobs, so a directory of
 * millions of entries never needs more than one page in memory.
 */
export class DirectoryPages {
  readonly #write: TreeWrite;
  readonly #pageSize: number;
  readonly #previous: readonly DirectoryPage[];
  #entries: CatalogEntry[] = [];
  #bytes = 0;
  readonly #pages: string[] = [];

  constructor(write: TreeWrite, options: DirectoryPagesOptions = {}) {
    this.#write = write;
    this.#pageSize = options.pageSize ?? defaultPageSize;
    this.#previous = options.previous ?? [];
  }

  async add(entry: CatalogEntry): Promise<void> {
    this.#entries.push(entry);
    this.#bytes += JSON.stringify(entry).length + 1;
    if (this.#entries.length >= this.#pageSize || this.#bytes >= maxPageBytes)
      await this.#flushPage();
  }

  /** Writes the last page; resolves to the ids of all pages (none for an empty directory). */
  async finish(): Promise<string[]> {
    if (this.#entries.length > 0) await this.#flushPage();
    return this.#pages;
  }

  async #flushPage(): Promise<void> {
    const entries = this.#entries;
    this.#entries = [];
    this.#bytes = 0;
    const previous = this.#previous[this.#pages.length];
    this.#pages.push(
      previous !== undefined && sameEntries(previous.entries, entries)
        ? previous.id
        : await this.#write({ version: 1, kind: 'page', entries }),
    );
  }
}

/** Whether two pages list the same entries, field by field (ids as given, in order). */
function sameEntries(a: readonly CatalogEntry[], b: readonly CatalogEntry[]): boolean {
  return a.length === b.length && a.every((entry, i) => sameEntry(entry, b[i]!));
}

function sameEntry(a: CatalogEntry, b: CatalogEntry): boolean {
  const fields = Object.keys(a) as Array<keyof CatalogEntry>;
  if (fields.length !== Object.keys(b).length) return false;
  return fields.every((field) => {
    const x: unknown = a[field];
    const y: unknown = b[field];
    if (x === y) return true;
    // Chunk ids, chunk lists and pages: arrays of strings.
    return (
      Array.isArray(x) &&
      Array.isArray(y) &&
      x.length === y.length &&
      x.every((value, i) => value === y[i])
    );
  });
}

/** Collects a file's chunk ids; spills them into chunk-list blobs when there are many. */
export class ChunkRefs {
  readonly #write: TreeWrite;
  #pending: string[] = [];
  readonly #lists: string[] = [];

  constructor(write: TreeWrite) {
    this.#write = write;
  }

  async push(id: string): Promise<void> {
    this.#pending.push(id);
    if (this.#pending.length >= chunkListSize) await this.#flushList();
  }

  /** The refs for the file entry: inline `chunks` for small files, `chunkLists` otherwise. */
  async finish(): Promise<Pick<FileEntry, 'chunks' | 'chunkLists'>> {
    if (this.#lists.length === 0 && this.#pending.length <= inlineChunkLimit) {
      return { chunks: this.#pending };
    }
    if (this.#pending.length > 0) await this.#flushList();
    return { chunkLists: this.#lists };
  }

  async #flushList(): Promise<void> {
    const chunks = this.#pending;
    this.#pending = [];
    this.#lists.push(await this.#write({ version: 1, kind: 'chunk-list', chunks }));
  }
}
