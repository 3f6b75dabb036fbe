import { RANDOM_CHUNK_BYTES } from './limits.js';

type RandomFill = typeof import('node:crypto').randomFillSync;

let randomFill: RandomFill | undefined;

/**
 * Fills `bytes[offset, offset + length)` from the CSPRNG in place, a chunk at a time: no host
 * buffer of the guest's size. `node:crypto` is loaded on the first call rather than at
 * import, so a guest that never asks for randomness does not pay ~4 ms at cold start (and
 * through `process.getBuiltinModule`, not `createRequire`, which would load `node:module`).
 */
export function fillRandom(bytes: Uint8Array, offset: number, length: number): void {
  randomFill ??= process.getBuiltinModule('node:crypto').randomFillSync;
  for (let at = 0; at < length; at += RANDOM_CHUNK_BYTES) {
    randomFill(bytes, offset + at, Math.min(RANDOM_CHUNK_BYTES, length - at));
  }
}
