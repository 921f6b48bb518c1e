import type { Command } from '../command.ts';
import { planned } from './planned.ts';

export const chunkCommand: Command = planned('chunk', 'Show the content-defined chunks of a file');
