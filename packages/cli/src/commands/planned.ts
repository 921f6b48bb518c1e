import type { Command } from '../command.ts';

/** A command of the tree that is not part of this release yet: help lists it, running it fails. */
export const planned = (name: string, summary: string): Command => ({
  name,
  summary,
  planned: true,
});
