import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentHost } from '../src/component/component-host.js';
import { GuestLog } from '../src/host/guest-log.js';
import type { FunctionHost } from '../src/host/outcome.js';
import { WasmHost } from '../src/host/wasm-host.js';
import { fn, type Running, startEmulator } from './support/emulator.js';
import { componentDir, decode, encode, handlerPath, testContext } from './support/handlers.js';
import { ABI_MARKER } from './support/wat.js';

const quiet = { logSink: () => {} };

describe.each([
  ['core', () => WasmHost.fromFile(handlerPath('faults'), quiet)],
  ['component', () => ComponentHost.fromDir(componentDir('faults'), quiet)],
] as const)('a %s guest that recurses without end', (_name, load) => {
  it('is a Runtime.StackOverflow and the next invocation works', async () => {
    const host: FunctionHost = await load();
    expect(host.invoke(encode('{"action":"recurse"}'), testContext())).toMatchObject({
      status: 'error',
      kind: 'runtime',
      error: { errorType: 'Runtime.StackOverflow', errorMessage: 'wasm trap: Maximum call stack size exceeded' },
    });
    const next = host.invoke(encode('{"action":"echo","payload":"ok"}'), testContext());
    expect(next.status === 'ok' && decode(next.response)).toBe('"ok"');
  });
});

describe('a guest whose memory grows while the host writes into it', () => {
  it('is read through the current buffer, never a detached one', async () => {
    // cabi_realloc grows memory on every call, so each allocation detaches the previous
    // ArrayBuffer; handle answers the event bytes as they landed in memory.
    const wat = `(module ${ABI_MARKER}
      (memory (export "memory") 1)
      (global $bump (mut i32) (i32.const 1024))
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (drop (memory.grow (i32.add (i32.shr_u (local.get 3) (i32.const 16)) (i32.const 1))))
        (local.set $p (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (i32.add (local.get 3) (i32.const 8))))
        (i32.and (i32.add (local.get $p) (i32.const 7)) (i32.const -8)))
      (func (export "cabi_post_handle") (param i32))
      (func (export "handle") (param $args i32) (result i32)
        (i32.store8 (i32.const 64) (i32.const 0))
        (i32.store (i32.const 68) (i32.load (local.get $args)))
        (i32.store (i32.const 72) (i32.load offset=4 (local.get $args)))
        (i32.const 64)))`;
    const host = await WasmHost.create((await parse(wat)) as Uint8Array<ArrayBuffer>, quiet);
    const event = `{"padding":"${'p'.repeat(200_000)}"}`;
    const outcome = host.invoke(encode(event), testContext());
    expect(outcome.status === 'ok' && decode(outcome.response)).toBe(event);
  });
});

describe('bad input gets a defined error and the host keeps serving', () => {
  let host: WasmHost;
  beforeAll(async () => {
    host = await WasmHost.fromFile(handlerPath('faults'), quiet);
  });

  const errorOf = (bytes: Uint8Array) => {
    const outcome = host.invoke(bytes, testContext());
    return outcome.status === 'error' ? outcome.error : undefined;
  };

  it.each([
    ['malformed JSON', encode('{"action": "echo", "payload": [1, 2'), /EOF while parsing/],
    ['an empty body', encode(''), /EOF while parsing a value/],
    [
      'invalid UTF-8 in a string',
      Uint8Array.from([...encode('{"action":"echo","payload":"'), 0xff, 0xfe, ...encode('"}')]),
      /invalid unicode code point|invalid UTF-8/i,
    ],
    ['an escaped lone surrogate', encode('{"action":"echo","payload":"\\ud800"}'), /surrogate|hex escape/],
    [
      '100,000 levels of nesting',
      encode(`{"action":"echo","payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
      /recursion limit exceeded/,
    ],
  ])('%s is a Runtime.UnmarshalError', (_what, bytes, message) => {
    const error = errorOf(bytes);
    expect(error?.errorType).toBe('Runtime.UnmarshalError');
    expect(error?.errorMessage).toMatch(message);
    const next = host.invoke(encode('{"action":"echo","payload":1}'), testContext());
    expect(next.status === 'ok' && decode(next.response)).toBe('1');
    expect(host.instanceCount).toBe(1);
  });
});

describe('log lines a guest cannot forge or weaponise', () => {
  it('escapes terminal control sequences and keeps the real request id first', async () => {
    const lines: string[] = [];
    const host = await WasmHost.fromFile(handlerPath('faults'), { logSink: (l) => lines.push(l) });
    const ctx = testContext();
    host.invoke(
      encode(
        JSON.stringify({
          action: 'log',
          stdout: [
            '\u001b[2J\u001b[31mred alert\u001b[0m',
            `2026-01-01T00:00:00.000Z\tforged-request-id\tINFO\tforged`,
          ],
          stderr: ['bell\u0007 and carriage\rreturn'],
        }),
      ),
      ctx,
    );
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.split('\t')[1]).toBe(ctx.requestId);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
      expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    }
    expect(lines[0]).toContain('\\x1b[2J\\x1b[31mred alert\\x1b[0m');
    expect(lines[2]).toContain('bell\\x07 and carriage\\rreturn');
  });

  it('GuestLog splits an over-long line into CloudWatch-sized records', () => {
    const records: string[] = [];
    const log = new GuestLog('json', (line) => records.push(line));
    log.begin('req');
    log.write('stdout', encode(`${'y'.repeat(300 * 1024)}\n`));
    log.end();
    const messages = records.map((r) => (JSON.parse(r) as { message: string }).message);
    expect(messages.map((m) => m.length)).toEqual([256 * 1024, 44 * 1024]);
  });
});

describe('the emulator under bad input', () => {
  let running: Running;
  beforeAll(async () => {
    running = await startEmulator([fn({ name: 'faults', kind: 'wasm', code: handlerPath('faults') })]);
  });
  afterAll(async () => {
    await running.emulator.stop();
  });

  it('refuses non-JSON payloads with InvalidRequestContentException, and deep nesting too', async () => {
    for (const body of ['{"unterminated": ', `${'['.repeat(100_000)}${']'.repeat(100_000)}`.slice(0, -1)]) {
      const reply = await running.invoke('faults', body);
      expect(reply.status).toBe(400);
      expect(reply.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    }
  });

  it('passes valid JSON with invalid UTF-8 bytes through untouched; the guest rejects it', async () => {
    const bytes = Uint8Array.from([...encode('{"action":"echo","payload":"'), 0xc3, 0x28, ...encode('"}')]);
    const reply = await running.invoke('faults', bytes);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(JSON.parse(reply.body)).toMatchObject({ errorType: 'Runtime.UnmarshalError' });
    const next = await running.invoke('faults', '{"action":"echo","payload":true}');
    expect(next.body).toBe('true');
  });
});
