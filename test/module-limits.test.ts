import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { build } from 'esbuild';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasiLambdaError } from '../src/errors.js';
import { ABI_SECTION, callHandle, checkContract, type HandlerExports, WIT_VERSION } from '../src/host/abi.js';
import { compileGuest } from '../src/host/compile.js';
import { GuestLog } from '../src/host/guest-log.js';
import { GuestMemory } from '../src/host/guest-memory.js';
import { guestMemoryPages } from '../src/host/memory-limit.js';
import { capModule, MAX_TABLE_ELEMENTS, MAX_TABLES, TABLE_ELEMENT_BYTES } from '../src/host/module-limits.js';
import { runtimeError } from '../src/host/outcome.js';
import { encode, handlerPath, testContext } from './support/handlers.js';
import { run } from './support/spawn.js';
import { ABI_MARKER } from './support/wat.js';

const wasm = async (wat: string): Promise<Uint8Array<ArrayBuffer>> => (await parse(wat)) as Uint8Array<ArrayBuffer>;

/** The typed error `fn` rejects with; anything else fails the test. */
async function refusal(fn: () => unknown): Promise<WasiLambdaError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof WasiLambdaError) return err;
    throw new Error(`expected a WasiLambdaError, got ${String(err)}`);
  }
  throw new Error('expected a refusal');
}

/** The world's exports around a `handle` body, with a bump allocator from 4096. */
function world(handleBody: string, extra = '', memory = '(memory (export "memory") 2)'): string {
  return `(module ${ABI_MARKER}
    ${memory}
    (global $bump (mut i32) (i32.const 4096))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "cabi_post_handle") (param i32) (global.set $bump (i32.const 4096)))
    (func (export "handle") (param $args i32) (result i32) ${handleBody})
    ${extra})`;
}

function instantiate(module: WebAssembly.Module): { exports: HandlerExports; memory: GuestMemory } {
  const exports = new WebAssembly.Instance(module, {}).exports as unknown as HandlerExports;
  return { exports, memory: new GuestMemory(exports.memory) };
}

/** The 128 MB function's guest share: 1,024 pages. */
const CAP_128 = guestMemoryPages(128);

describe('memories a guest may not have', () => {
  it('refuses a shared memory, typed, with what to change (capped or not)', async () => {
    const bytes = await wasm('(module (memory (export "memory") 32768 32768 shared))');
    for (const cap of [CAP_128, undefined]) {
      const err = await refusal(() => compileGuest(bytes, cap));
      expect(err.code).toBe('MODULE_REFUSED');
      expect(err.message).toBe(
        'the module declares a shared memory; the host runs no threads: build for wasm32-wasip1, not wasm32-wasip1-threads, and without `+atomics`',
      );
    }
  });

  it('refuses an imported shared memory the same way', async () => {
    const bytes = await wasm('(module (import "env" "memory" (memory 1 1 shared)))');
    expect((await refusal(() => compileGuest(bytes))).code).toBe('MODULE_REFUSED');
  });

  it('refuses a 64-bit memory', async () => {
    const err = await refusal(async () => compileGuest(await wasm('(module (memory i64 1))'), CAP_128));
    expect(err.code).toBe('MODULE_REFUSED');
    expect(err.message).toBe('the module declares a 64-bit memory; build the handler for wasm32 (wasm32-wasip1)');
  });

  it('refuses a second memory, which the cap would otherwise multiply', async () => {
    const err = await refusal(async () => compileGuest(await wasm('(module (memory 1) (memory 1))'), CAP_128));
    expect(err.message).toBe('the module has 2 memories; the host gives a handler exactly one');
  });

  it('refuses, at the contract, an imported memory or table the host never provides', async () => {
    const memory = await compileGuest(
      await wasm(world('(i32.const 0)', '', '(import "env" "memory" (memory 2)) (export "memory" (memory 0))')),
    );
    const err = await refusal(() => checkContract(memory));
    expect(err.code).toBe('MODULE_REFUSED');
    expect(err.message).toBe(
      'the module imports the memory `env.memory`, which the host does not provide: a handler defines and exports its own memory and tables (link without `--import-memory`)',
    );
    const table = await compileGuest(
      await wasm(world('(i32.const 0)', '', '(import "env" "t" (table 1 funcref)) (memory (export "memory") 2)')),
    );
    expect((await refusal(() => checkContract(table))).message).toMatch(/imports the table `env.t`.*--import-table/);
  });
});

describe('the memory maximum', () => {
  it('is the 128 MB share less the tables’ worst case, so memory.grow fails inside the guest', async () => {
    const capped = capModule(await wasm('(module (memory 1) (table 100 100 funcref))'), CAP_128);
    expect(capped.tableBytes).toBe(100 * TABLE_ELEMENT_BYTES);
    expect(capped.memoryMaxPages).toBe(CAP_128 - 1);
    const grower = await compileGuest(
      await wasm(
        '(module (memory (export "memory") 1) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))',
      ),
      CAP_128,
    );
    const grow = (new WebAssembly.Instance(grower).exports.grow as (pages: number) => number).bind(null);
    expect(grow(CAP_128 - 1)).toBe(1);
    expect(grow(1)).toBe(-1);
  });

  it('is clamped to 65,536 pages: 10,240 MB loads a module without a declared maximum', async () => {
    expect(guestMemoryPages(10_240)).toBe(65_536);
    const bytes = await wasm('(module (memory (export "memory") 1))');
    expect(capModule(bytes, guestMemoryPages(10_240)).memoryMaxPages).toBe(65_536);
    // A caller passing the unclamped share (162,816 pages) gets the same.
    expect(capModule(bytes, 162_816).memoryMaxPages).toBe(65_536);
    const memory = new WebAssembly.Instance(await compileGuest(bytes, guestMemoryPages(10_240))).exports
      .memory as WebAssembly.Memory;
    expect(memory.buffer.byteLength).toBe(65_536);
  });

  it('refuses a module that starts with more memory than the function leaves it', async () => {
    const err = await refusal(async () => capModule(await wasm('(module (memory 2000))'), CAP_128));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toBe(
      'the module starts with 2000 pages (125 MB) but the memory size leaves the guest 768 pages; raise memorySize',
    );
  });

  it('keeps a lower declared maximum, and the bytes, as they are', async () => {
    const bytes = await wasm('(module (memory 1 10))');
    const capped = capModule(bytes, CAP_128);
    expect(capped.memoryMaxPages).toBe(10);
    expect(capped.bytes).toBe(bytes);
  });
});

describe('tables', () => {
  it('refuses a table declared with 100M elements before V8 allocates it', async () => {
    const err = await refusal(async () => compileGuest(await wasm('(module (table 100000000 funcref))')));
    expect(err.code).toBe('MODULE_REFUSED');
    expect(err.message).toBe(
      `table 0 starts with 100000000 elements; the host allows at most ${MAX_TABLE_ELEMENTS} (${MAX_TABLES} tables), which real handlers stay far below`,
    );
  });

  it(`refuses more than ${MAX_TABLES} tables`, async () => {
    const tables = '(table 1 funcref)'.repeat(MAX_TABLES + 1);
    const err = await refusal(async () => compileGuest(await wasm(`(module ${tables})`)));
    expect(err.message).toBe(`the module has more than ${MAX_TABLES} tables, which is all the host allows`);
  });

  it('table.grow in a loop to 100M fails at the cap inside the guest; the next invocation is fine', async () => {
    // Each call grows the table by 4,096 until table.grow answers -1 or it holds 100M
    // entries, and answers with the table's size.
    const body = `(block $full (loop $more
        (br_if $full (i32.ge_u (table.size $t) (i32.const 100000000)))
        (br_if $full (i32.eq (table.grow $t (ref.null func) (i32.const 4096)) (i32.const -1)))
        (br $more)))
      (i32.store8 (i32.const 64) (i32.const 0))
      (i32.store (i32.const 128) (table.size $t))
      (i32.store (i32.const 68) (i32.const 128))
      (i32.store (i32.const 72) (i32.const 4))
      (i32.const 64)`;
    const module = await compileGuest(await wasm(world(body, '(table $t 0 funcref)')), CAP_128);
    checkContract(module);
    const { exports, memory } = instantiate(module);
    for (let call = 0; call < 2; call++) {
      const result = callHandle(exports, memory, encode('{}'), testContext());
      if (!result.ok) throw new Error(JSON.stringify(result));
      expect(new DataView(result.body.buffer).getUint32(0, true)).toBe(
        MAX_TABLE_ELEMENTS - (MAX_TABLE_ELEMENTS % 4096),
      );
    }
  });

  it('caps a table the host grows from JS too (an exported table has the rewritten maximum)', async () => {
    const module = await compileGuest(await wasm('(module (table (export "t") 10 externref))'));
    const table = new WebAssembly.Instance(module).exports.t as WebAssembly.Table;
    expect(() => table.grow(MAX_TABLE_ELEMENTS - 10)).not.toThrow();
    expect(() => table.grow(1)).toThrow(RangeError);
  });

  it('refuses wasm GC types, whose objects would live on the V8 heap without bound', async () => {
    const err = await refusal(async () => compileGuest(await wasm('(module (type (array (mut i8))))')));
    expect(err.code).toBe('MODULE_REFUSED');
    expect(err.message).toMatch(/^the module declares wasm GC types/);
  });
});

describe('the built handlers pass the policy unchanged in what they can do', () => {
  it.each(['hello', 'faults', 'http-api', 'workloads'])('%s: exports typed as the world, small tables', (name) => {
    const bytes = readFileSync(handlerPath(name));
    const capped = capModule(bytes, CAP_128);
    expect(capped.exportTypes.get('handle')).toBe('[i32] -> [i32]');
    // Rust declares its one table with maximum = minimum: a few hundred entries here.
    expect(capped.tableBytes).toBeLessThan(1000 * TABLE_ELEMENT_BYTES);
    expect(capped.memoryMaxPages).toBe(CAP_128 - 1);
    // The SDK names the world's version; wasm-opt and LTO keep the section.
    const sections = WebAssembly.Module.customSections(new WebAssembly.Module(bytes), ABI_SECTION);
    expect(sections.map((section) => new TextDecoder().decode(section))).toEqual([WIT_VERSION]);
  });
});

describe('malformed modules are MODULE_INVALID, never a crash or a hang', () => {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  it.each([
    ['a truncated section', [...header, 0x05, 0x10, 0x01]],
    ['a LEB128 longer than 5 bytes', [...header, 0x05, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
    ['a count the section cannot hold', [...header, 0x04, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]],
    ['a repeated memory section', [...header, 0x05, 0x01, 0x00, 0x05, 0x01, 0x00]],
    ['bytes left over in a section', [...header, 0x05, 0x02, 0x00, 0x00]],
    ['an unknown limits flag', [...header, 0x05, 0x03, 0x01, 0x10, 0x01]],
    ['a section larger than the module', [...header, 0x01, 0xff, 0xff, 0x03, 0x00]],
    ['a component instead of a module', [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]],
  ])('%s', async (_, bytes) => {
    const err = await refusal(() => capModule(Uint8Array.from(bytes), CAP_128));
    expect(err.code).toBe('MODULE_INVALID');
  });

  it('any mutation of a real module either passes or is refused with a typed error', () => {
    const hello = readFileSync(handlerPath('hello'));
    // Mutations near the start hit the section headers and the type/import/table/memory sections.
    const head = hello.subarray(0, 4096);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(head.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), (edits) => {
        const bytes = Uint8Array.from(head);
        for (const [at, value] of edits) bytes[at] = value;
        try {
          capModule(bytes, CAP_128);
        } catch (err) {
          expect(err).toBeInstanceOf(WasiLambdaError);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
  });
});

describe('the export contract', () => {
  it.each([
    [
      '`handle` as a global',
      '(global (export "handle") i32 (i32.const 0))',
      'the module exports `handle` as a global, not a function',
    ],
    ['`memory` as a function', '(func (export "memory"))', 'the module exports `memory` as a function, not a memory'],
  ])('refuses %s', async (_, exports, message) => {
    const core = `(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0))
      (func (export "cabi_post_handle") (param i32))`;
    const own = message.includes('`handle`')
      ? `(memory (export "memory") 1) ${core} ${exports}`
      : `${core} (func (export "handle") (param i32) (result i32) (i32.const 0)) ${exports}`;
    const err = await refusal(async () => checkContract(await compileGuest(await wasm(`(module ${own})`))));
    expect(err.code).toBe('CONTRACT_MISSING');
    expect(err.message).toMatch(new RegExp(`^${message.replaceAll('`', '\\`')}`));
  });

  it('refuses a module without the wasi-lambda:abi section, as an older SDK built one, and says how to add it', async () => {
    // Shaped exactly like a handler and importing nothing from the world: before the section,
    // nothing told it apart from a current module, and it would misread the argument tuple.
    const module = await compileGuest(await wasm(world('(i32.const 0)').replace(ABI_MARKER, '')));
    const err = await refusal(() => checkContract(module));
    expect(err.code).toBe('CONTRACT_MISSING');
    expect(err.message).toMatch(/^the module has no `wasi-lambda:abi` custom section/);
    expect(err.message).toContain(`(@custom "wasi-lambda:abi" "${WIT_VERSION}")`);
  });

  it.each([
    ['another version', '(@custom "wasi-lambda:abi" "0.1.0")', '"0.1.0"'],
    ['an empty section', '(@custom "wasi-lambda:abi" "")', '""'],
    // What a module says about itself is shown with everything but printable ASCII escaped.
    [
      'terminal escapes',
      '(@custom "wasi-lambda:abi" "\\1b[2J\\c2\\9b2J\\e2\\80\\ae0.2.0")',
      '"\\u{1b}[2J\\u{9b}2J\\u{202e}0.2.0"',
    ],
    ['bytes that are not UTF-8', '(@custom "wasi-lambda:abi" "\\ff\\fe0.2.0")', '"\\u{fffd}\\u{fffd}0.2.0"'],
    ['the version and a NUL', '(@custom "wasi-lambda:abi" "0.2.0\\00")', '"0.2.0\\u{0}"'],
    // What a module says about itself is read no further than 64 bytes, and shown cut short.
    ['10,000 bytes', `(@custom "wasi-lambda:abi" "${'x'.repeat(10_000)}")`, `"${'x'.repeat(64)}"…`],
  ])('refuses a wasi-lambda:abi section naming %s', async (_, section, shown) => {
    const module = await compileGuest(await wasm(world('(i32.const 0)').replace(ABI_MARKER, section)));
    const err = await refusal(() => checkContract(module));
    expect(err.code).toBe('CONTRACT_MISSING');
    expect(err.message).toContain(`the module was built for wasi-lambda:handler ${shown}`);
    expect(err.message).toContain(`this host implements ${WIT_VERSION}`);
    expect(err.message.length).toBeLessThan(400);
  });

  it('refuses two wasi-lambda:abi sections, even naming the same version', async () => {
    const twice = world('(i32.const 0)').replace(ABI_MARKER, `${ABI_MARKER} ${ABI_MARKER}`);
    const err = await refusal(async () => checkContract(await compileGuest(await wasm(twice))));
    expect(err.code).toBe('CONTRACT_MISSING');
    expect(err.message).toMatch(/^the module has 2 `wasi-lambda:abi` custom sections/);
  });

  it('refuses an export of the wrong type', async () => {
    const module = await compileGuest(
      await wasm(
        world('(i32.const 0)').replace(
          '(param $args i32) (result i32) (i32.const 0)',
          '(param i64) (result i32) (i32.const 0)',
        ),
      ),
    );
    const err = await refusal(() => checkContract(module));
    expect(err.message).toMatch(/^the module's `handle` has type \[i64\] -> \[i32\], not \[i32\] -> \[i32\]/);
  });
});

describe('the response size, checked before anything is copied', () => {
  // The event is the response's (pointer, length) as two little-endian u32s.
  const body = `(i32.store8 (i32.const 64) (i32.const 0))
    (i32.store (i32.const 68) (i32.load (i32.load (local.get $args))))
    (i32.store (i32.const 72) (i32.load offset=4 (i32.load (local.get $args))))
    (i32.const 64)`;
  const ask = (ptr: number, length: number): Uint8Array => new Uint8Array(new Uint32Array([ptr, length]).buffer);

  it('6,291,557 bytes is Function.ResponseSizeTooLarge; exactly 6,291,556 passes', async () => {
    const { exports, memory } = instantiate(
      await compileGuest(await wasm(world(body, '', '(memory (export "memory") 100)'))),
    );
    const over = callHandle(exports, memory, ask(0, 6_291_557), testContext());
    expect(over).toEqual({
      ok: false,
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).',
    });
    const exact = callHandle(exports, memory, ask(0, 6_291_556), testContext());
    expect(exact.ok && exact.body.byteLength).toBe(6_291_556);
  });
});

describe('a trapped instance is never called again', () => {
  it('the panic text comes from what the guest wrote to stderr', () => {
    const log = new GuestLog('text', () => {});
    log.begin('req-1');
    log.write('stderr', encode('panicked at src/lib.rs:7:5: boom\n'));
    const error = runtimeError(new WebAssembly.RuntimeError('unreachable'), { requestId: 'req-1', log });
    expect(error).toEqual({ errorType: 'Runtime.Panic', errorMessage: 'panicked at src/lib.rs:7:5: boom' });
  });
});

describe('the peak RSS of a process that loads hostile modules for a 128 MB function', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'wasi-lambda-rss-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const touch = `(func $touch (param $end i32) (local $p i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (i32.store8 (local.get $p) (i32.const 1))
      (local.set $p (i32.add (local.get $p) (i32.const 4096)))
      (br $next))))`;
  const growMemory = `(block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $more)))
    (call $touch (i32.mul (memory.size) (i32.const 65536)))`;
  const names = ['$a', '$b', '$c', '$d'];
  const tables = names.map((t) => `(table ${t} 0 funcref)`).join(' ');
  const growTables = names
    .map(
      (t) => `(block $full${t} (loop $more${t}
        (br_if $full${t} (i32.ge_u (table.size ${t}) (i32.const 100000000)))
        (br_if $full${t} (i32.eq (table.grow ${t} (ref.func $attack) (i32.const 4096)) (i32.const -1)))
        (br $more${t})))`,
    )
    .join(' ');
  const tableSizes = names.map((t) => `(table.size ${t})`).reduce((sum, size) => `(i32.add ${sum} ${size})`);
  const attack = (body: string) => `(elem declare func $attack) (func $attack (export "attack") (result i32) ${body})`;
  const modules: Record<string, string> = {
    // 2 GiB, touched page by page: what the landed host let through.
    shared: `(module (memory 32768 32768 shared) ${touch} ${attack('(call $touch (i32.const 0x80000000)) (memory.size)')})`,
    // 256 MiB without the policy: proves the measurement sees an attack that gets through.
    control: `(module (memory 4096 4096 shared) ${touch} ${attack('(call $touch (i32.const 0x10000000)) (memory.size)')})`,
    memory: `(module (memory 1) ${touch} ${attack(`${growMemory} (memory.size)`)})`,
    tables: `(module ${tables} ${attack(`${growTables} ${tableSizes}`)})`,
    both: `(module (memory 1) ${tables} ${touch} ${attack(`${growTables} ${growMemory} (memory.size)`)})`,
  };

  beforeAll(async () => {
    await build({
      stdin: {
        contents:
          "export { compileGuest } from './src/host/compile.ts'; export { guestMemoryPages } from './src/host/memory-limit.ts';",
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(dir, 'host.mjs'),
      logLevel: 'warning',
    });
    for (const [name, wat] of Object.entries(modules)) writeFileSync(join(dir, `${name}.wasm`), await wasm(wat));
  });

  async function measure(name: string, memory: '128' | 'raw') {
    const script = join(root, 'test/support/rss-guest.mjs');
    const child = await run(process.execPath, [script, join(dir, 'host.mjs'), join(dir, `${name}.wasm`), memory]);
    if (child.code !== 0) throw new Error(`rss-guest exited ${child.code}: ${child.stderr}`);
    const report = JSON.parse(child.stdout) as {
      baselineKb: number;
      peakKb: number;
      attacked?: number;
      refused?: string;
    };
    return { ...report, peakMb: report.peakKb / 1024, growthMb: (report.peakKb - report.baselineKb) / 1024 };
  }

  // Node.js itself peaks at about 42 MB here before any guest loads; the guest's share is
  // 48 MB. The whole process stays under the function's 128 MB, and what loading and
  // attacking added stays within the share, but for V8's own compile and instance overhead.
  const FUNCTION_MB = 128;
  const SHARE_MB = 48;
  const V8_OVERHEAD_MB = 8;

  it('without the policy, the control pushes the same process far past 128 MB', async () => {
    const control = await measure('control', 'raw');
    expect(control.attacked).toBe(4096);
    expect(control.peakMb).toBeGreaterThan(FUNCTION_MB);
  });

  it.each([
    ['a shared memory of 2 GiB is refused before anything is allocated', 'shared', { refused: 'MODULE_REFUSED' }],
    ['memory.grow until it fails stops at the 48 MB share', 'memory', { attacked: CAP_128 }],
    [
      `four tables grown toward 100M stop at ${MAX_TABLE_ELEMENTS} each`,
      'tables',
      { attacked: 4 * MAX_TABLE_ELEMENTS },
    ],
    // The tables' worst case (4 × 65,536 × 128 B = 32 MB, 512 pages) comes out of the memory.
    ['tables and memory grown together share the 48 MB', 'both', { attacked: CAP_128 - 512 }],
  ])('%s', async (_, name, expected) => {
    const result = await measure(name, '128');
    expect(result).toMatchObject(expected);
    expect(result.peakMb).toBeLessThan(FUNCTION_MB);
    expect(result.growthMb).toBeLessThan(SHARE_MB + V8_OVERHEAD_MB);
  });
});
