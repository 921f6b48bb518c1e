/** Where the CLI writes, and what it knows of its surroundings; tests pass their own. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stdout is a terminal (progress bars, colours). */
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export function processIo(): Io {
  return {
    stdout: (text) => process.stdout.write(redactSecrets(text)),
    stderr: (text) => process.stderr.write(redactSecrets(text)),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}

// Last line of defence: no code path should print a secret, but if one ever does, mask it.
const secretPatterns: ReadonlyArray<[RegExp, string]> = [
  [/([?&]sig=)[^&\s"']+/gi, '$1REDACTED'],
  [/(AccountKey=)[^;\s"']+/gi, '$1REDACTED'],
  [/(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/g, '$1REDACTED'],
  [/\b\d{6}(?:-\d{6}){7}\b/g, 'REDACTED-BITLOCKER-KEY'],
];

/** Masks SAS signatures, account keys, bearer tokens and BitLocker recovery keys in `text`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of secretPatterns) out = out.replace(pattern, replacement);
  return out;
}

/** Writes `data` as JSON (with `--json`) or as the text `human` renders. */
export function printResult<T>(io: Io, json: boolean, data: T, human: (data: T) => string): void {
  io.stdout(json ? `${JSON.stringify(data, null, 2)}\n` : ensureNewline(human(data)));
}

function ensureNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
