import type { BlobSink, SinkBlob } from '@offline-seed/chunk-engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointSink } from './checkpoint-sink.ts';

function blob(n: number, size: number): SinkBlob {
  const id = new Uint8Array(32);
  new DataView(id.buffer).setUint32(0, n);
  return { id, type: 'data', rawLength: size, bytes: new Uint8Array(size) };
}

/** A sink whose writes complete only when the test lets them, recording order and flushes. */
class SlowSink implements BlobSink {
  readonly written: number[] = [];
  readonly events: string[] = [];
  readonly #gates: Array<() => void> = [];
  failOn: number | undefined;
  auto = true;

  has(): boolean {
    return false;
  }

  async put(b: SinkBlob): Promise<void> {
    const n = new DataView(b.id.buffer).getUint32(0);
    if (!this.auto) await new Promise<void>((resolve) => this.#gates.push(resolve));
    await Promise.resolve();
    if (n === this.failOn) throw new Error(`disk full at ${n}`);
    this.written.push(n);
    this.events.push(`put ${n}`);
  }

  async flush(): Promise<void> {
    this.events.push('flush');
  }

  release(): void {
    for (const gate of this.#gates.splice(0)) gate();
  }
}

describe('CheckpointSink', () => {
  it('hands every blob on in order and flushes every checkpointBytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 300 }),
        async (sizes, checkpointBytes) => {
          const inner = new SlowSink();
          const sink = new CheckpointSink(inner, { checkpointBytes, maxQueuedBytes: 150 });
          for (const [i, size] of sizes.entries()) await sink.put(blob(i, size));
          await sink.flush();
          expect(inner.written).toEqual(sizes.map((_, i) => i));
          // Between two flushes fewer than checkpointBytes + one blob were put.
          let since = 0;
          for (const event of inner.events) {
            if (event === 'flush') since = 0;
            else since += sizes[Number(event.slice(4))]!;
            expect(since).toBeLessThan(checkpointBytes + 100);
          }
          expect(inner.events.at(-1)).toBe('flush');
        },
      ),
    );
  });

  it('does not wait for writes until maxQueuedBytes are queued', async () => {
    const inner = new SlowSink();
    inner.auto = false;
    const sink = new CheckpointSink(inner, { checkpointBytes: 10_000, maxQueuedBytes: 100 });
    await sink.put(blob(0, 60));
    const second = sink.put(blob(1, 60));
    await second; // 60 < 100 queued before it: accepted at once
    let third = false;
    const pending = sink.put(blob(2, 10)).then(() => {
      third = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(third).toBe(false);
    inner.release();
    await pending;
    inner.release();
    inner.auto = true;
    await sink.flush();
    expect(inner.written).toEqual([0, 1, 2]);
  });

  it('fails the next put and flush after a failed write', async () => {
    const inner = new SlowSink();
    inner.failOn = 1;
    const sink = new CheckpointSink(inner, { checkpointBytes: 10_000, maxQueuedBytes: 1000 });
    await sink.put(blob(0, 10));
    await sink.put(blob(1, 10));
    await expect(sink.flush()).rejects.toThrow('disk full at 1');
    await expect(sink.put(blob(2, 10))).rejects.toThrow('disk full at 1');
    expect(inner.events).not.toContain('flush');
  });

  it('rejects bad sizes', () => {
    expect(
      () => new CheckpointSink(new SlowSink(), { checkpointBytes: 0, maxQueuedBytes: 1 }),
    ).toThrow(RangeError);
  });
});
