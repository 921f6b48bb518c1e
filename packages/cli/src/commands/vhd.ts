import type { Command } from '../command.ts';
import { planned } from './planned.ts';

export const vhdCommand: Command = planned(
  'vhd',
  'Inspect, check, create, convert and merge VHD files',
);
