import { describe, expect, it } from 'vitest';
import { createSnapshotRecord } from './snapshot.ts';

describe('createSnapshotRecord', () => {
  it('makes the record the caller commits: random id, ISO time, root, parent, stats', () => {
    const time = new Date('2026-01-02T03:04:05.678Z');
    const record = createSnapshotRecord(
      { rootId: 'ab'.repeat(32), stats: { files: 3 } },
      { parentId: 'p1', time },
    );
    expect(record).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      time: '2026-01-02T03:04:05.678Z',
      rootId: 'ab'.repeat(32),
      parentId: 'p1',
      stats: { files: 3 },
    });
    const first = createSnapshotRecord({ rootId: 'cd'.repeat(32), stats: {} });
    expect('parentId' in first).toBe(false);
    expect(first.id).not.toBe(createSnapshotRecord({ rootId: 'cd'.repeat(32), stats: {} }).id);
  });
});
