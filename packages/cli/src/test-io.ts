import type { Io } from './io.ts';

/** An {@link Io} that records what a command prints, for tests. */
export function memoryIo(env: Record<string, string> = {}): Io & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
    isTTY: false,
    env,
    cwd: process.cwd(),
  };
  return io;
}
