import type * as NodeCrypto from 'node:crypto';
import type * as NodeZlib from 'node:zlib';

// Node's built-ins are looked up at run time (no static `node:` import), so the core also loads
// in browsers and falls back to the portable implementations there.
const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
  .process?.getBuiltinModule;

/** `node:crypto` when the runtime has it. */
export const nodeCrypto: typeof NodeCrypto | undefined = getBuiltin?.('node:crypto') as
  | typeof NodeCrypto
  | undefined;

/** `node:zlib` when the runtime has it. */
export const nodeZlib: typeof NodeZlib | undefined = getBuiltin?.('node:zlib') as
  | typeof NodeZlib
  | undefined;
