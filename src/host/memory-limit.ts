/** A wasm page is 64 KiB. */
export const WASM_PAGE_BYTES = 65_536;
/** A 32-bit memory addresses at most 4 GiB: 65,536 pages. */
export const WASM32_MAX_PAGES = 65_536;
/**
 * What the Node.js runtime itself needs inside the function's memory, kept out of the guest's
 * share: measured, a worker-isolated host is at ~61 MB RSS after init and peaks ~70 MB above
 * the guest's linear memory during an invocation (event and response copies, the worker's own
 * isolate), so a guest at its cap still leaves the process under the function's memory size.
 */
export const HOST_RESERVE_MB = 80;
/** The least the guest gets, whatever the function's memory size. */
const MIN_GUEST_MB = 16;

/**
 * The guest's share of the function's memory: the configured size minus what Node.js needs,
 * in wasm pages, and never more than a 32-bit memory can address. 128 MB → 48 MB (768
 * pages); 1,024 MB → 944 MB; 10,240 MB → 4 GiB (65,536 pages).
 *
 * ```ts
 * const host = await WasmHost.create(bytes, { maxMemoryPages: guestMemoryPages(128) });
 * ```
 */
export function guestMemoryPages(functionMemoryMb: number): number {
  const mb = Math.max(MIN_GUEST_MB, functionMemoryMb - HOST_RESERVE_MB);
  return Math.min(WASM32_MAX_PAGES, Math.floor((mb * 1024 * 1024) / WASM_PAGE_BYTES));
}
