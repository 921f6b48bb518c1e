import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, progressBar, renderProgress } from './progress.ts';
import { memoryIo } from './test-io.ts';

describe('progress', () => {
  it('formats bytes and durations', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 2 ** 30)).toBe('3.0 GiB');
    expect(formatDuration(59.4)).toBe('0:59');
    expect(formatDuration(61)).toBe('1:01');
    expect(formatDuration(3725)).toBe('1:02:05');
  });

  it('renders a bar with rate and ETA, or only the rate without a total', () => {
    expect(renderProgress('stage', 2 ** 30, 4 * 2 ** 30, 10)).toBe(
      'stage [######------------------] 1.0 GiB / 4.0 GiB  102.4 MiB/s  ETA 0:30',
    );
    expect(renderProgress('verify', 2 ** 20, undefined, 2)).toBe('verify 1.0 MiB  512.0 KiB/s');
    expect(renderProgress('stage', 0, 100, 0)).toContain('ETA -');
  });

  it('draws only on a terminal', () => {
    const io = memoryIo();
    const bar = progressBar(io, 'stage', true);
    bar.update({ bytesDone: 1, bytesTotal: 2 });
    bar.finish();
    expect(io.err).toBe('');
    const tty = { ...memoryIo(), isTTY: true, err: '' };
    tty.stderr = (text: string) => {
      tty.err += text;
    };
    const drawn = progressBar(tty, 'stage', true);
    drawn.update({ bytesDone: 1, bytesTotal: 2 });
    drawn.finish();
    expect(tty.err).toMatch(/^\rstage \[/);
    expect(tty.err.endsWith('\r\x1b[K')).toBe(true);
  });
});
