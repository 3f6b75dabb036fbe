import { describe, expect, it } from 'vitest';
import { WasiLambdaError } from '../src/errors.js';
import { GuestMemory } from '../src/host/guest-memory.js';

const PAGE = 65_536;

function violation(fn: () => unknown): WasiLambdaError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WasiLambdaError) return err;
    throw new Error(`expected a WasiLambdaError, got ${String(err)}`);
  }
  throw new Error('expected a throw');
}

describe('GuestMemory', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  const guest = new GuestMemory(memory);

  it('reads a range that ends exactly at the end of memory', () => {
    guest.write(PAGE - 4, new Uint8Array([1, 2, 3, 4]), 'tail');
    expect([...guest.copyOut(PAGE - 4, 4, 'tail')]).toEqual([1, 2, 3, 4]);
  });

  it('refuses a range one byte past the end with a typed error', () => {
    const err = violation(() => guest.copyOut(PAGE - 4, 5, 'response'));
    expect(err.code).toBe('GUEST_ABI_VIOLATION');
    expect(err.message).toBe(`guest response [${PAGE - 4}, ${PAGE + 1}) lies outside its ${PAGE}-byte memory`);
  });

  it('reads a negative (high-bit) i32 pointer as unsigned and refuses it', () => {
    const err = violation(() => guest.u32(-8, 'result'));
    expect(err.message).toContain(`[${2 ** 32 - 8}, ${2 ** 32 - 4})`);
  });

  it('does not let ptr + len wrap around 2^32', () => {
    const err = violation(() => guest.view(16, -1, 'iovec buffer'));
    expect(err.code).toBe('GUEST_ABI_VIOLATION');
  });

  it('sees memory that grew after it was created', () => {
    memory.grow(1);
    guest.setU32(PAGE + 8, 0xdead_beef, 'grown');
    expect(guest.u32(PAGE + 8, 'grown')).toBe(0xdead_beef);
    expect(guest.byteLength).toBe(2 * PAGE);
  });

  it('writes nothing when a write would not fit', () => {
    guest.write(guest.byteLength - 2, new Uint8Array([9, 9]), 'tail');
    violation(() => guest.write(guest.byteLength - 2, new Uint8Array([7, 7, 7]), 'tail'));
    expect([...guest.copyOut(guest.byteLength - 2, 2, 'tail')]).toEqual([9, 9]);
  });

  it('copies out into a buffer of its own, which the guest cannot change afterwards', () => {
    guest.write(64, new Uint8Array([1, 2, 3]), 'response');
    const copy = guest.copyOut(64, 3, 'response');
    guest.write(64, new Uint8Array([7, 7, 7]), 'response');
    expect([...copy]).toEqual([1, 2, 3]);
    // Offset 0 over the whole buffer: what a worker transfers, and what `.buffer` readers expect.
    expect(copy.byteOffset).toBe(0);
    expect(copy.buffer.byteLength).toBe(3);
  });

  it('writes an ASCII string after the memory grew, through the new buffer', () => {
    memory.grow(1);
    guest.writeAscii(guest.byteLength - 5, 'hello', 'request-id');
    expect(new TextDecoder().decode(guest.view(guest.byteLength - 5, 5, 'request-id'))).toBe('hello');
  });
});
