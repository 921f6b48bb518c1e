/**
 * The V8 flags the CLI runs with. A young generation of at most 2 MiB per semi-space: V8 lets the
 * main thread's grow to 64 MiB per semi-space while a backup runs, mostly holding garbage until
 * the next scavenge. Capped, a full stage of /usr/lib peaked at 813–920 MiB instead of
 * 1 018–1 075 MiB, an incremental at about 400 instead of 490 MiB, in the same time.
 */
export const heapFlags = ['--max-semi-space-size=2'] as const;

/**
 * The {@link heapFlags} that neither the command line (`execArgv`) nor `NODE_OPTIONS` sets
 * already: a size the user chose wins.
 */
export function heapFlagsToAdd(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return heapFlags.filter((flag) => {
    const name = flag.slice(0, flag.indexOf('='));
    // V8 reads dashes and underscores alike.
    const same = (option: string) => option.replaceAll('_', '-').split('=')[0] === name;
    return !given.some(same);
  });
}
