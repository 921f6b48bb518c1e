const WASM_PAGE = 64 * 1024;

/** The part of the WebAssembly API used here (its types are not in this package's libs). */
interface WasmMemoryApi {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
}

/**
 * `length` zero bytes whose first byte sits on a page boundary, for buffers that large reads fill
 * over and over.
 *
 * Why: malloc, where ArrayBuffers come from, places large blocks 16 bytes past a page boundary,
 * and on some CPUs the kernel copies from the page cache into memory aligned like that at a third
 * of the speed (measured on AMD EPYC: 1 GiB in 160 ms instead of 55 ms). WebAssembly memory
 * always starts on a page boundary. Where it is missing (`--jitless`) or cannot be had, the bytes
 * come from a plain `Uint8Array`: slower to fill, the same otherwise.
 */
export function pageAlignedBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0)
    throw new RangeError(`"length" expected a non-negative safe integer, got ${length}`);
  const { WebAssembly: wasm } = globalThis as { WebAssembly?: WasmMemoryApi };
  if (wasm !== undefined && length >= WASM_PAGE) {
    try {
      const memory = new wasm.Memory({ initial: Math.ceil(length / WASM_PAGE) });
      return new Uint8Array(memory.buffer, 0, length);
    } catch {
      // Address space refused (a low `ulimit -v`): plain memory does the same job.
    }
  }
  return new Uint8Array(length);
}
