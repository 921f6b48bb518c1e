import { describe, expect, it } from 'vitest';
import { heapFlagsToAdd } from './heap-flags.ts';

describe('heapFlagsToAdd', () => {
  it('adds the young generation cap when nothing sets it', () => {
    expect(heapFlagsToAdd([], undefined)).toEqual(['--max-semi-space-size=2']);
    expect(heapFlagsToAdd(['--enable-source-maps'], '--max-old-space-size=512')).toEqual([
      '--max-semi-space-size=2',
    ]);
  });

  it('leaves a size given on the command line or in NODE_OPTIONS', () => {
    expect(heapFlagsToAdd(['--max-semi-space-size=2'], undefined)).toEqual([]);
    expect(heapFlagsToAdd(['--max-semi-space-size=16'], '')).toEqual([]);
    expect(heapFlagsToAdd([], '--inspect --max-semi-space-size=8')).toEqual([]);
    expect(heapFlagsToAdd(['--max_semi_space_size=4'], undefined)).toEqual([]);
  });

  it('does not mistake a longer flag for it', () => {
    expect(heapFlagsToAdd(['--max-semi-space-size-extra=1'], undefined)).toEqual([
      '--max-semi-space-size=2',
    ]);
  });
});
