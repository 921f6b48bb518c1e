import { randomUUID } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StagingFormatError } from '../../errors.ts';
import type { LocationLock } from '../store/store.ts';

/** File name of a location's writer lock. */
export const LOCK_FILE = 'staging.lock';

/** What a lock file says about its owner. */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO 8601 time the lock was taken. */
  startedAt: string;
  /** Random, so that a lock is never mistaken for another with the same pid. */
  token: string;
  /**
   * Start time of the process in clock ticks since boot (Linux `/proc/<pid>/stat`), so that an
   * unrelated process that reused the pid is not taken for the owner.
   */
  processStart?: string;
}

/** What {@link inspectLock} found. */
export interface LockState {
  /** `undefined` when the lock file exists but cannot be parsed (a damaged lock). */
  owner: LockOwner | undefined;
  /** True when breaking the lock is safe: its process is gone from this host, or the file is damaged. */
  stale: boolean;
  reason: string;
}

/**
 * Takes the lock of the location in `dir`: a lock file created atomically with its content (written
 * to a temporary file, then hard-linked into place, which fails when a lock exists).
 * @throws {StagingFormatError} `STAGING_LOCKED` naming the owner, `STAGING_IO`.
 */
export async function acquireLock(dir: string): Promise<LocationLock> {
  const lockPath = join(dir, LOCK_FILE);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    token: randomUUID(),
  };
  const processStart = await processStartOf(process.pid);
  if (processStart !== undefined) owner.processStart = processStart;
  const content = `${JSON.stringify(owner)}\n`;
  const temporary = `${lockPath}.${owner.token}.tmp`;
  try {
    await writeFile(temporary, content, { flag: 'wx' });
    // A lock released between our failed link and our look at it is simply taken on the next try.
    for (let attempt = 1; ; attempt++) {
      try {
        await link(temporary, lockPath);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw ioError(`cannot take ${lockPath}`, lockPath, error);
        }
      }
      const state = await inspectLock(dir);
      if (state === undefined && attempt < 3) continue;
      const who = state?.owner === undefined ? 'an unreadable lock' : describe(state.owner);
      throw new StagingFormatError(
        'STAGING_LOCKED',
        `${dir} is locked by ${who}${state?.stale === true ? ` (stale: ${state.reason}; break it with breakStaleLock)` : ''}`,
        { path: lockPath },
      );
    }
  } catch (error) {
    if (error instanceof StagingFormatError) throw error;
    throw ioError(`cannot take ${lockPath}`, lockPath, error);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return {
    release: async () => {
      // Only our own lock is removed: one broken and retaken by someone else stays.
      if ((await readFile(lockPath, 'utf8').catch(() => undefined)) === content) {
        await unlink(lockPath).catch(() => undefined);
      }
    },
  };
}

/** Reads the lock of `dir` and judges whether it is stale; `undefined` when there is no lock. */
export async function inspectLock(dir: string): Promise<LockState | undefined> {
  const lockPath = join(dir, LOCK_FILE);
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(`cannot read ${lockPath}`, lockPath, error);
  }
  const owner = parseOwner(text);
  if (owner === undefined) return { owner, stale: true, reason: 'the lock file is damaged' };
  if (owner.host !== hostname()) {
    return {
      owner,
      stale: false,
      reason: `owned by host ${owner.host}, whose processes cannot be checked from here`,
    };
  }
  if (!isAlive(owner.pid))
    return { owner, stale: true, reason: `process ${owner.pid} is not running` };
  const stat = await procStat(owner.pid);
  if (stat?.state === 'Z')
    return { owner, stale: true, reason: `process ${owner.pid} has exited (zombie)` };
  if (owner.processStart !== undefined && stat !== undefined && stat.start !== owner.processStart) {
    return {
      owner,
      stale: true,
      reason: `process ${owner.pid} is another process that reused the pid`,
    };
  }
  return { owner, stale: false, reason: `process ${owner.pid} is running` };
}

/**
 * Removes the lock of `dir` if, and only if, it is stale. Safe against a race with another
 * breaker or writer: the lock is renamed away first and put back if what was renamed is not the
 * lock judged stale.
 * @returns the owner of the broken lock (`undefined` for a damaged one).
 * @throws {StagingFormatError} `STAGING_LOCK_NOT_STALE`, or `STAGING_LOCKED` when a new owner won a race.
 */
export async function breakStaleLock(dir: string): Promise<LockOwner | undefined> {
  const lockPath = join(dir, LOCK_FILE);
  const state = await inspectLock(dir);
  if (state === undefined) return undefined;
  if (!state.stale) {
    throw new StagingFormatError(
      'STAGING_LOCK_NOT_STALE',
      `the lock of ${dir} is not stale: ${state.reason}`,
      {
        path: lockPath,
      },
    );
  }
  const aside = `${lockPath}.broken-${randomUUID()}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return state.owner;
    throw ioError(`cannot break ${lockPath}`, lockPath, error);
  }
  const moved = parseOwner(await readFile(aside, 'utf8').catch(() => ''));
  if (moved?.token !== state.owner?.token) {
    // Someone took the lock between inspection and rename: give it back.
    await link(aside, lockPath).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    throw new StagingFormatError(
      'STAGING_LOCKED',
      `${dir} was locked again while breaking a stale lock`,
      {
        path: lockPath,
      },
    );
  }
  await unlink(aside);
  return state.owner;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return Number.isSafeInteger(owner.pid) &&
      typeof owner.host === 'string' &&
      typeof owner.startedAt === 'string' &&
      typeof owner.token === 'string'
      ? (owner as LockOwner)
      : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** State and start time of a process from Linux's `/proc`; `undefined` elsewhere. */
async function procStat(pid: number): Promise<{ state: string; start: string } | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // Fields after the parenthesised command name (which may hold spaces): state is field 3, start 22.
  const fields = text?.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields === undefined || fields.length < 20
    ? undefined
    : { state: fields[0]!, start: fields[19]! };
}

async function processStartOf(pid: number): Promise<string | undefined> {
  return (await procStat(pid))?.start;
}

function describe(owner: LockOwner): string {
  return `process ${owner.pid} on ${owner.host} since ${owner.startedAt}`;
}

/**
 * The error for a failed file operation: `STAGING_FULL` when the file system has no room left
 * (operators need to tell that apart: it is fixed by space, not by repair), else `STAGING_IO`.
 */
export function ioError(
  message: string,
  path: string,
  cause: unknown,
  offset?: number,
): StagingFormatError {
  const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
  const full = reason === 'ENOSPC' || reason === 'EDQUOT';
  return new StagingFormatError(
    full ? 'STAGING_FULL' : 'STAGING_IO',
    full
      ? `${message}: no room left on its file system (${reason}); what was flushed is kept, and the location resumes from it once there is room`
      : `${message}: ${reason}`,
    { path, cause, ...(offset === undefined ? {} : { offset }) },
  );
}
