import { WasiLambdaError } from '../errors.js';

/** A wasm page is 64 KiB. */
export const WASM_PAGE_BYTES = 65_536;
/** What the Node.js runtime itself needs inside the function's memory, kept out of the guest's share. */
export const HOST_RESERVE_MB = 64;
/** The least the guest gets, whatever the function's memory size. */
const MIN_GUEST_MB = 16;

/**
 * The guest's share of the function's memory: the configured size minus what Node.js needs,
 * in wasm pages. 128 MB → 64 MB (1,024 pages); 1,024 MB → 960 MB.
 */
export function guestMemoryPages(functionMemoryMb: number): number {
  const mb = Math.max(MIN_GUEST_MB, functionMemoryMb - HOST_RESERVE_MB);
  return Math.floor((mb * 1024 * 1024) / WASM_PAGE_BYTES);
}

function readLeb(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let pos = at;
  for (;;) {
    const byte = bytes[pos];
    if (byte === undefined || shift > 35) throw new WasiLambdaError('MODULE_INVALID', 'malformed LEB128 in the module');
    value += (byte & 0x7f) * 2 ** shift;
    pos += 1;
    if ((byte & 0x80) === 0) return { value, next: pos };
    shift += 7;
  }
}

function writeLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

/**
 * Returns the module with its (exported, 32-bit, unshared) memory's maximum lowered to
 * `maxPages`, so `memory.grow` past the function's share fails inside the guest (Rust then
 * reports an allocation failure) instead of the process running out of memory. V8 cannot
 * cap a memory the module defines itself, hence the rewrite of the memory section.
 */
export function capMemory(module: Uint8Array, maxPages: number): Uint8Array {
  if (module.length < 8 || module[0] !== 0x00 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) {
    throw new WasiLambdaError('MODULE_INVALID', 'not a WebAssembly module (bad magic number)');
  }
  let pos = 8;
  while (pos < module.length) {
    const id = module[pos] ?? 0;
    const size = readLeb(module, pos + 1);
    const start = size.next;
    const end = start + size.value;
    if (id === 5) {
      const count = readLeb(module, start);
      if (count.value !== 1) return module;
      const flags = module[count.next] ?? 0;
      if (flags > 1) return module; // shared or 64-bit memories: leave as built
      const min = readLeb(module, count.next + 1);
      const max = flags === 1 ? readLeb(module, min.next).value : Number.POSITIVE_INFINITY;
      if (min.value > maxPages) {
        throw new WasiLambdaError(
          'INVALID_CONFIG',
          `the module starts with ${min.value} pages (${(min.value * WASM_PAGE_BYTES) / 2 ** 20} MB) but the memory size leaves the guest ${maxPages} pages; raise memorySize`,
        );
      }
      const payload = [...writeLeb(1), 0x01, ...writeLeb(min.value), ...writeLeb(Math.min(max, maxPages))];
      const section = Uint8Array.from([5, ...writeLeb(payload.length), ...payload]);
      const out = new Uint8Array(pos + section.length + (module.length - end));
      out.set(module.subarray(0, pos), 0);
      out.set(section, pos);
      out.set(module.subarray(end), pos + section.length);
      return out;
    }
    pos = end;
  }
  return module;
}
