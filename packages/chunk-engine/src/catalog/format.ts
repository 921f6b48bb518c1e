import { isHex, utf8 } from '../bytes.ts';
import { ChunkEngineError } from '../errors.ts';

/** Version of the catalog (tree blob) format. */
export const catalogFormatVersion = 1;

/** Fields every catalog entry has. */
export interface EntryBase {
  /** One path component: not empty, not `.` or `..`, no `/` or NUL. */
  name: string;
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string. */
  mtimeNs: string;
  uid?: number;
  gid?: number;
}

/** A regular file and the blobs of its content. */
export interface FileEntry extends EntryBase {
  type: 'file';
  size: number;
  /** Inode number (decimal), to spot unchanged files in the next run. */
  inode?: string;
  /** Hex ids of the content chunks, in order (small files). */
  chunks?: string[];
  /** Hex ids of `chunk-list` tree blobs holding the chunk ids (large files). */
  chunkLists?: string[];
  /** Path (from the snapshot root) of an earlier entry this file is a hard link to. */
  hardLink?: string;
}

/** A directory; its entries live in `page` tree blobs, sorted by name across pages. */
export interface DirectoryEntry extends EntryBase {
  type: 'dir';
  pages: string[];
}

/** A symbolic link (never followed). */
export interface SymlinkEntry extends EntryBase {
  type: 'symlink';
  target: string;
}

/** One entry of a snapshot's tree. */
export type CatalogEntry = FileEntry | DirectoryEntry | SymlinkEntry;

/** The tree blobs of a catalog: the root, directory pages, and chunk lists of large files. */
export type TreeBlob =
  | { version: 1; kind: 'root'; root: DirectoryEntry }
  | { version: 1; kind: 'page'; entries: CatalogEntry[] }
  | { version: 1; kind: 'chunk-list'; chunks: string[] };

/** Encodes a tree blob's plaintext (UTF-8 JSON). */
export function encodeTree(tree: TreeBlob): Uint8Array {
  return utf8(JSON.stringify(tree));
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and validates a tree blob of the expected kind; never trusts names, ids or sizes.
 *
 * @throws {@link ChunkEngineError} `CATALOG_CORRUPT`.
 */
export function decodeTree<K extends TreeBlob['kind']>(
  bytes: Uint8Array,
  kind: K,
  blobId?: string,
): Extract<TreeBlob, { kind: K }> {
  const corrupt = (why: string) =>
    new ChunkEngineError('CATALOG_CORRUPT', `tree blob ${blobId ?? ''} ${why}`.replace('  ', ' '), {
      blobId,
    });
  let tree: unknown;
  try {
    tree = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new ChunkEngineError('CATALOG_CORRUPT', `tree blob ${blobId ?? ''} is not UTF-8 JSON`, {
      blobId,
      cause,
    });
  }
  if (!isObject(tree) || tree.version !== catalogFormatVersion)
    throw corrupt('has an unknown version');
  if (tree.kind !== kind) throw corrupt(`is a ${String(tree.kind)}, expected a ${kind}`);
  const problem =
    kind === 'root'
      ? isObject(tree.root) && tree.root.type === 'dir'
        ? entryProblem({ ...tree.root, name: 'root' })
        : 'has no root directory'
      : kind === 'page'
        ? pageProblem(tree.entries)
        : idsProblem(tree.chunks, 'chunks');
  if (problem) throw corrupt(problem);
  return tree as Extract<TreeBlob, { kind: K }>;
}

function pageProblem(entries: unknown): string | undefined {
  if (!Array.isArray(entries)) return 'has no entries';
  let previous: string | undefined;
  for (const entry of entries) {
    const problem = entryProblem(entry);
    if (problem) return problem;
    const { name } = entry as CatalogEntry;
    if (previous !== undefined && !(previous < name))
      return `has entries out of order at "${name}"`;
    previous = name;
  }
  return undefined;
}

// A backslash is an ordinary character in POSIX names (systemd units are full of them), but a
// separator on Windows, where restoring such a name could leave the target directory.
const windows = (globalThis as { process?: { platform?: string } }).process?.platform === 'win32';

/** Whether `name` is a safe single path component (restore joins it to a directory). */
export function isSafeName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name !== '' &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !(windows && name.includes('\\')) &&
    !name.includes('\0')
  );
}

const decimal = /^\d{1,30}$/;

function entryProblem(entry: unknown): string | undefined {
  if (!isObject(entry)) return 'has an entry that is not an object';
  const { name } = entry;
  if (!isSafeName(name)) return `has an unsafe name ${JSON.stringify(name)}`;
  const at = ` at "${name}"`;
  if (
    !Number.isInteger(entry.mode) ||
    (entry.mode as number) < 0 ||
    (entry.mode as number) > 0o7777
  ) {
    return `has a bad mode${at}`;
  }
  if (typeof entry.mtimeNs !== 'string' || !decimal.test(entry.mtimeNs))
    return `has a bad mtime${at}`;
  for (const key of ['uid', 'gid'] as const) {
    if (entry[key] !== undefined && !Number.isInteger(entry[key])) return `has a bad ${key}${at}`;
  }
  switch (entry.type) {
    case 'file': {
      if (!Number.isSafeInteger(entry.size) || (entry.size as number) < 0)
        return `has a bad size${at}`;
      if (
        entry.inode !== undefined &&
        (typeof entry.inode !== 'string' || !decimal.test(entry.inode))
      ) {
        return `has a bad inode${at}`;
      }
      if (entry.hardLink !== undefined && typeof entry.hardLink !== 'string')
        return `has a bad hard link${at}`;
      if (entry.chunks !== undefined && entry.chunkLists !== undefined)
        return `has two kinds of chunk refs${at}`;
      const refs = entry.chunks ?? entry.chunkLists ?? [];
      return idsProblem(refs, `chunk refs${at}`);
    }
    case 'dir':
      return idsProblem(entry.pages, `pages${at}`);
    case 'symlink':
      return typeof entry.target === 'string' && entry.target !== ''
        ? undefined
        : `has a bad link target${at}`;
    default:
      return `has an unknown type${at}`;
  }
}

function idsProblem(ids: unknown, what: string): string | undefined {
  if (!Array.isArray(ids)) return `has no ${what}`;
  for (const id of ids) if (!isHex(id, 32)) return `has a bad id in ${what}`;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
