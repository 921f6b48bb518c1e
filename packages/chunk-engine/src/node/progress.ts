/** How often progress is reported at most, unless an option says otherwise. */
export const defaultProgressIntervalInMs = 100;

/**
 * Wraps a progress callback so it runs at most once per `intervalInMs` (a run can finish a file
 * every few microseconds); `flush` reports the latest state at once, for the final event.
 */
export function throttledProgress<T>(
  onProgress: ((progress: T) => void) | undefined,
  snapshot: () => T,
  intervalInMs = defaultProgressIntervalInMs,
): { report(): void; flush(): void } {
  if (!Number.isFinite(intervalInMs) || intervalInMs < 0) {
    throw new RangeError(
      `"progressIntervalInMs" expected a non-negative number, got ${intervalInMs}`,
    );
  }
  let last = Number.NEGATIVE_INFINITY;
  const flush = () => {
    last = performance.now();
    onProgress?.(snapshot());
  };
  return {
    report() {
      if (onProgress !== undefined && performance.now() - last >= intervalInMs) flush();
    },
    flush,
  };
}
