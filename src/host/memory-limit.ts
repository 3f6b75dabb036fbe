/** A wasm page is 64 KiB. */
export const WASM_PAGE_BYTES = 65_536;
/** A 32-bit memory addresses at most 4 GiB: 65,536 pages. */
export const WASM32_MAX_PAGES = 65_536;
/** What the Node.js runtime itself needs inside the function's memory, kept out of the guest's share. */
export const HOST_RESERVE_MB = 64;
/** The least the guest gets, whatever the function's memory size. */
const MIN_GUEST_MB = 16;

/**
 * The guest's share of the function's memory: the configured size minus what Node.js needs,
 * in wasm pages, and never more than a 32-bit memory can address. 128 MB → 64 MB (1,024
 * pages); 1,024 MB → 960 MB; 10,240 MB → 4 GiB (65,536 pages).
 *
 * ```ts
 * const host = await WasmHost.create(bytes, { maxMemoryPages: guestMemoryPages(128) });
 * ```
 */
export function guestMemoryPages(functionMemoryMb: number): number {
  const mb = Math.max(MIN_GUEST_MB, functionMemoryMb - HOST_RESERVE_MB);
  return Math.min(WASM32_MAX_PAGES, Math.floor((mb * 1024 * 1024) / WASM_PAGE_BYTES));
}
