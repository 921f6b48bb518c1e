import type * as NodeCrypto from 'node:crypto';
import type * as NodeZlib from 'node:zlib';

/**
 * Node built-ins when the runtime has them (Node, and runtimes that emulate `process`), looked up at
 * run time so that this module loads in browsers too.
 */
export function builtin<T>(name: string): T | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process;
  return process?.getBuiltinModule?.(name) as T | undefined;
}

export const nodeCrypto = builtin<typeof NodeCrypto>('node:crypto');
export const nodeZlib = builtin<typeof NodeZlib>('node:zlib');
