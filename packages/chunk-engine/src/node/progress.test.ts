import { describe, expect, it } from 'vitest';
import { throttledProgress } from './progress.ts';

describe('throttledProgress', () => {
  it('reports at most once per interval, and always on flush', () => {
    const seen: number[] = [];
    let n = 0;
    const progress = throttledProgress(
      (value: number) => seen.push(value),
      () => n,
      60_000,
    );
    for (n = 1; n <= 1000; n++) progress.report();
    progress.flush();
    expect(seen).toEqual([1, 1001]);
  });

  it('does nothing without a callback and rejects a negative interval', () => {
    expect(() => throttledProgress(undefined, () => 0).report()).not.toThrow();
    expect(() =>
      throttledProgress(
        () => {},
        () => 0,
        -1,
      ),
    ).toThrow(RangeError);
  });
});
