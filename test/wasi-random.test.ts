import { afterEach, describe, expect, it, vi } from 'vitest';

describe('fillRandom', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('fills exactly the range asked for, across chunks', async () => {
    const { fillRandom } = await import('../src/wasi/random.js');
    const bytes = new Uint8Array(200_000);
    fillRandom(bytes, 10, 150_000);
    expect(bytes.subarray(0, 10).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(150_010).every((b) => b === 0)).toBe(true);
    // 150,000 random bytes with not one non-zero in a 65,536-byte chunk is not going to happen.
    for (const start of [10, 65_546, 131_082]) {
      expect(bytes.subarray(start, start + 1000).some((b) => b !== 0)).toBe(true);
    }
  });

  it('uses Web Crypto where process.getBuiltinModule is missing (Node.js 18, as the arm64 check runs)', async () => {
    vi.stubGlobal('process', { ...process, getBuiltinModule: undefined });
    const getRandomValues = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const { fillRandom } = await import('../src/wasi/random.js');
    const bytes = new Uint8Array(70_000);
    fillRandom(bytes, 0, 70_000);
    expect(getRandomValues).toHaveBeenCalledTimes(2);
    expect(bytes.subarray(65_536).some((b) => b !== 0)).toBe(true);
    getRandomValues.mockRestore();
  });
});
