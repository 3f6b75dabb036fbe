import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../src/host/guest-memory.js';
import { type GuestHttpResult, type GuestOutbound, unsupportedOutbound } from '../src/host/guest-outbound.js';
import { httpImports } from '../src/host/http-import.js';
import type { OutboundRequest } from '../src/outbound/client.js';

/** One 64 KiB page; `cabi_realloc` is a bump allocator from 32 KiB, as a guest's would hand out. */
function guest(outbound: GuestOutbound) {
  const raw = new WebAssembly.Memory({ initial: 1 });
  const memory = new GuestMemory(raw);
  let next = 32 * 1024;
  const realloc = (_old: number, _len: number, align: number, size: number) => {
    next = Math.ceil(next / align) * align;
    const ptr = next;
    next += size;
    return ptr;
  };
  const imports = httpImports(
    () => ({ memory, realloc }),
    outbound,
    () => Date.now() + 1000,
  );
  const bytes = new Uint8Array(raw.buffer);
  const view = () => new DataView(raw.buffer);
  /** Writes `data` at `ptr`; returns `[ptr, len]`. */
  const put = (ptr: number, data: string | Uint8Array): [number, number] => {
    const encoded = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    bytes.set(encoded, ptr);
    return [ptr, encoded.length];
  };
  const text = (ptr: number, len: number) => new TextDecoder().decode(bytes.subarray(ptr, ptr + len));
  return { imports, put, view, text };
}

/** A fake outbound that records what it was asked and answers `result`. */
function recording(result: GuestHttpResult) {
  const sent: OutboundRequest[] = [];
  const outbound: GuestOutbound = {
    send: (request) => {
      sent.push(request);
      return 7;
    },
    wait: (handles) => [...handles],
    take: () => result,
    forget: () => {},
    abandonAll: () => {},
  };
  return { outbound, sent };
}

const call = (fn: ((...args: number[]) => void) | undefined, ...args: number[]) => {
  if (fn === undefined) throw new Error('missing import');
  fn(...args);
};

describe('the wasi-lambda:handler/http core ABI, host side', () => {
  it('lifts a request (method, URL, headers, body, timeout) and lowers the handle into result<u32, http-error>', () => {
    const { outbound, sent } = recording({ ok: false, code: 'Timeout', message: 'unused' });
    const g = guest(outbound);
    const [mp, ml] = g.put(100, 'POST');
    const [up, ul] = g.put(200, 'https://api.example.com/x');
    const [np, nl] = g.put(300, 'content-type');
    const [vp, vl] = g.put(400, 'application/json');
    const headers = 500;
    for (const [i, word] of [np, nl, vp, vl].entries()) g.view().setUint32(headers + i * 4, word, true);
    const [bp, bl] = g.put(600, '{"a":1}');
    call(g.imports.send, mp, ml, up, ul, headers, 1, 1, bp, bl, 1, 2500, 1000);
    expect(sent).toEqual([
      {
        method: 'POST',
        url: 'https://api.example.com/x',
        headers: [['content-type', 'application/json']],
        body: new TextEncoder().encode('{"a":1}'),
        timeoutMs: 2500,
      },
    ]);
    expect(g.view().getUint8(1000)).toBe(0);
    expect(g.view().getUint32(1004, true)).toBe(7);
  });

  it('lowers a response into result<response, http-error> at the offsets the SDK reads', () => {
    const body = new TextEncoder().encode('hello');
    const { outbound } = recording({ ok: true, status: 201, headers: [['x-id', 'é']], body });
    const g = guest(outbound);
    call(g.imports.take, 7, 1000);
    const v = g.view();
    expect(v.getUint8(1000)).toBe(0);
    expect(v.getUint16(1004, true)).toBe(201);
    const [list, count] = [v.getUint32(1008, true), v.getUint32(1012, true)];
    expect(count).toBe(1);
    expect(list % 4).toBe(0);
    expect(g.text(v.getUint32(list, true), v.getUint32(list + 4, true))).toBe('x-id');
    expect(g.text(v.getUint32(list + 8, true), v.getUint32(list + 12, true))).toBe('é');
    expect(g.text(v.getUint32(1016, true), v.getUint32(1020, true))).toBe('hello');
  });

  it('lowers a failure as http-error { code, message }', () => {
    const g = guest(unsupportedOutbound);
    const [up, ul] = g.put(200, 'http://x/');
    const [mp, ml] = g.put(100, 'GET');
    call(g.imports.send, mp, ml, up, ul, 0, 0, 0, 0, 0, 0, 0, 1000);
    const v = g.view();
    expect(v.getUint8(1000)).toBe(1);
    expect(g.text(v.getUint32(1004, true), v.getUint32(1008, true))).toBe('Unsupported');
    expect(g.text(v.getUint32(1012, true), v.getUint32(1016, true))).toContain('worker isolation');
  });

  it.each([
    ['a URL outside memory', [100, 3, 0xffff_fff0, 64, 0, 0, 0, 0, 0, 0, 0, 1000]],
    ['a header list running past the end of memory', [100, 3, 200, 1, 65_500, 10, 0, 0, 0, 0, 0, 1000]],
    ['a return area outside memory', [100, 3, 200, 1, 0, 0, 0, 0, 0, 0, 0, 65_530]],
    ['a body outside memory', [100, 3, 200, 1, 0, 0, 1, 60_000, 10_000, 0, 0, 1000]],
  ])('traps (GUEST_ABI_VIOLATION) on %s, before anything is sent', (_what, args) => {
    const { outbound, sent } = recording({ ok: false, code: 'Timeout', message: '' });
    const g = guest(outbound);
    g.put(100, 'GET');
    g.put(200, 'h');
    expect(() => call(g.imports.send, ...args)).toThrow(expect.objectContaining({ code: 'GUEST_ABI_VIOLATION' }));
    expect(sent).toEqual([]);
  });

  it('traps on a method or URL that is not UTF-8', () => {
    const { outbound, sent } = recording({ ok: false, code: 'Timeout', message: '' });
    const g = guest(outbound);
    const [mp, ml] = g.put(100, Uint8Array.of(0x47, 0xff, 0x54));
    const [up, ul] = g.put(200, 'http://x/');
    expect(() => call(g.imports.send, mp, ml, up, ul, 0, 0, 0, 0, 0, 0, 0, 1000)).toThrow(/not UTF-8/);
    expect(sent).toEqual([]);
  });

  it('traps on a handle the guest does not hold (take, wait), but forgets unknown handles quietly', () => {
    const g = guest(unsupportedOutbound);
    expect(() => call(g.imports.take, 42, 1000)).toThrow(expect.objectContaining({ code: 'GUEST_ABI_VIOLATION' }));
    g.view().setUint32(100, 42, true);
    expect(() => call(g.imports.wait, 100, 1, 0, 0, 1000)).toThrow(
      expect.objectContaining({ code: 'GUEST_ABI_VIOLATION' }),
    );
    expect(() => call(g.imports.forget, 42)).not.toThrow();
  });
});
