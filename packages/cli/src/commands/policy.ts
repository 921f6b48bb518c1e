import type { Command } from '../command.ts';
import { planned } from './planned.ts';

export const policyCommand: Command = planned(
  'policy',
  'Validate, simulate and compare backup retention policies',
);
