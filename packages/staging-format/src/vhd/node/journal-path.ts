/** Path of the journal of a merge into `parentPath`; it exists only while a merge is unfinished. */
export function mergeJournalPath(parentPath: string): string {
  return `${parentPath}.merge-journal`;
}
