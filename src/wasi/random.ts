import { RANDOM_CHUNK_BYTES } from './limits.js';

/** Fills `bytes[offset, offset + size)` from the CSPRNG. */
type RandomFill = (bytes: Uint8Array, offset: number, size: number) => void;

let randomFill: RandomFill | undefined;

/**
 * `node:crypto`'s `randomFillSync` through `process.getBuiltinModule` (Node.js ≥ 20.16, every
 * runtime the package supports), else Web Crypto's `getRandomValues`: the cross-architecture
 * check runs the host on Debian's arm64 Node.js 18, which has no `getBuiltinModule`. Both take
 * `RANDOM_CHUNK_BYTES` at a time (Web Crypto's own limit is 65,536).
 */
function loadRandomFill(): RandomFill {
  if (typeof process.getBuiltinModule === 'function') {
    const { randomFillSync } = process.getBuiltinModule('node:crypto');
    return (bytes, offset, size) => randomFillSync(bytes, offset, size);
  }
  // Guest memory is never shared (the module policy refuses shared memories).
  return (bytes, offset, size) =>
    globalThis.crypto.getRandomValues(bytes.subarray(offset, offset + size) as Uint8Array<ArrayBuffer>);
}

/**
 * Fills `bytes[offset, offset + length)` from the CSPRNG in place, a chunk at a time: no host
 * buffer of the guest's size. `node:crypto` is loaded on the first call rather than at
 * import, so a guest that never asks for randomness does not pay ~4 ms at cold start (and
 * through `process.getBuiltinModule`, not `createRequire`, which would load `node:module`).
 */
export function fillRandom(bytes: Uint8Array, offset: number, length: number): void {
  randomFill ??= loadRandomFill();
  for (let at = 0; at < length; at += RANDOM_CHUNK_BYTES) {
    randomFill(bytes, offset + at, Math.min(RANDOM_CHUNK_BYTES, length - at));
  }
}
