import type { Io } from './io.ts';

/** Bytes with binary units, e.g. `1.2 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const [h, m] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Reports bytes done of a total; a no-op unless the output is a terminal. */
export interface ProgressBar {
  /** False when nothing is drawn: callers can then skip work done only for the bar. */
  readonly active: boolean;
  update(progress: { bytesDone: number; bytesTotal: number | undefined }): void;
  /** Clears the bar's line. */
  finish(): void;
}

const barWidth = 24;
const redrawEveryMs = 100;

/**
 * A one-line progress bar on stderr (bytes, rate, ETA), redrawn at most ten times a second;
 * nothing at all when stdout is not a terminal or JSON was asked for.
 */
export function progressBar(io: Io, label: string, enabled: boolean): ProgressBar {
  if (!enabled || !io.isTTY) return { active: false, update: () => {}, finish: () => {} };
  const started = performance.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    active: true,
    update({ bytesDone, bytesTotal }) {
      const now = performance.now();
      if (now - lastDraw < redrawEveryMs) return;
      lastDraw = now;
      drawn = true;
      io.stderr(`\r${renderProgress(label, bytesDone, bytesTotal, (now - started) / 1000)}\x1b[K`);
    },
    finish() {
      if (drawn) io.stderr('\r\x1b[K');
    },
  };
}

/** The bar's text: `label [####----] 1.2 GiB / 4.0 GiB  180.0 MiB/s  ETA 0:15`. */
export function renderProgress(
  label: string,
  bytesDone: number,
  bytesTotal: number | undefined,
  elapsedSeconds: number,
): string {
  const rate = elapsedSeconds > 0 ? bytesDone / elapsedSeconds : 0;
  const speed = `${formatBytes(rate)}/s`;
  if (bytesTotal === undefined || bytesTotal === 0)
    return `${label} ${formatBytes(bytesDone)}  ${speed}`;
  const fraction = Math.min(1, bytesDone / bytesTotal);
  const filled = Math.round(fraction * barWidth);
  const eta = rate > 0 ? `ETA ${formatDuration((bytesTotal - bytesDone) / rate)}` : 'ETA -';
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${formatBytes(bytesDone)} / ${formatBytes(bytesTotal)}  ${speed}  ${eta}`;
}
