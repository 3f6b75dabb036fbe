/**
 * The load-time policy for guest modules: whatever a module declares that makes the host
 * allocate in proportion to it is bounded here, before V8 sees the bytes.
 *
 * - **Linear memory.** One 32-bit, unshared memory. Its maximum is rewritten to the guest's
 *   share of the function's memory (less what its tables may cost), so `memory.grow` past it
 *   returns -1 inside the guest. Shared memories are refused: the host runs no threads, and
 *   nothing caps a shared memory the module defines once V8 has it (2 GiB could be touched
 *   from a 128 MB function). 64-bit memories are refused: a handler is built for wasm32.
 * - **Tables.** At most `MAX_TABLES`, each at most `MAX_TABLE_ELEMENTS`: a larger declared
 *   minimum is refused, and every maximum is rewritten to the cap, so `table.grow` past it
 *   returns -1 instead of growing the V8 heap until the process aborts. Their worst case
 *   (`TABLE_ELEMENT_BYTES` an element) is taken out of the memory budget.
 * - **Wasm GC types** are refused: `struct.new`/`array.new` would allocate on the V8 heap with
 *   no bound at all. Rust emits none.
 * - Everything else a module declares (functions, globals, data and element segments, their
 *   sizes) costs the host at most a small multiple of the module's own size, which Lambda's
 *   package limit bounds, and V8 caps each count on top (1,000,000 globals, 100,000 data
 *   segments, 10,000,000 element-segment entries).
 *
 * One pass over the section headers; only the type, import, function, table, memory and
 * export sections are read, and only the table and memory sections are ever rewritten.
 */
import { WasiLambdaError } from '../errors.js';
import { WASM_PAGE_BYTES, WASM32_MAX_PAGES } from './memory-limit.js';
import { invalid, ModuleReader, writeU32 } from './module-reader.js';

/** Real modules have one table (Rust's indirect-call table), two with an `externref` table. */
export const MAX_TABLES = 4;
/**
 * Rust's table holds one entry per function whose address is taken: a few hundred in the
 * handlers built here, about 10,000 in a module linking the AWS SDK. Six and a half times that.
 */
export const MAX_TABLE_ELEMENTS = 65_536;
/**
 * What one `funcref` element costs V8 at the peak of growing a table with `table.grow`, which
 * copies its arrays (measured: 74 bytes on Node.js 20, ~117 on Node.js 22; 28 declared up
 * front). Rounded up, so the accounting holds on every supported Node.js.
 */
export const TABLE_ELEMENT_BYTES = 128;

/** What `capModule` produced and charged. */
export interface CappedModule {
  /** The module to compile: the input itself when nothing needed rewriting. */
  bytes: Uint8Array;
  /** The defined memory's maximum as rewritten, in pages; undefined when not capped. */
  memoryMaxPages: number | undefined;
  /** The worst case of the module's own tables, taken out of the memory budget. */
  tableBytes: number;
  /** Each exported function's type in the spec's notation, `[i32 i32] -> [i32]`. */
  exportTypes: ReadonlyMap<string, string>;
}

/** Canonical section order (the tag section, 13, sits between memory and global). */
const SECTION_RANK = new Map([1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11].map((id, rank) => [id, rank]));
const SECTION_TYPE = 1;
const SECTION_IMPORT = 2;
const SECTION_FUNCTION = 3;
const SECTION_TABLE = 4;
const SECTION_MEMORY = 5;
const SECTION_EXPORT = 7;

const LIMITS_HAS_MAX = 0x01;
const LIMITS_SHARED = 0x02;
const LIMITS_64 = 0x04;

const VALUE_TYPES = new Map([
  [0x7f, 'i32'],
  [0x7e, 'i64'],
  [0x7d, 'f32'],
  [0x7c, 'f64'],
  [0x7b, 'v128'],
  [0x70, 'funcref'],
  [0x6f, 'externref'],
]);
/** `(ref null ht)` and `(ref ht)`: a heap type follows. */
const REF_NULL = 0x63;
const REF = 0x64;

function refused(message: string): WasiLambdaError {
  return new WasiLambdaError('MODULE_REFUSED', message);
}

interface Limits {
  flags: number;
  min: number;
  max: number | undefined;
}

function readLimits(reader: ModuleReader, what: string): Limits {
  const flags = reader.byte(`${what} limits`);
  if (flags & LIMITS_64) {
    throw refused(`the module declares a 64-bit ${what}; build the handler for wasm32 (wasm32-wasip1)`);
  }
  if (flags & LIMITS_SHARED) {
    throw refused(
      `the module declares a shared ${what}; the host runs no threads: build for wasm32-wasip1, ` +
        'not wasm32-wasip1-threads, and without `+atomics`',
    );
  }
  if (flags & ~LIMITS_HAS_MAX) throw invalid(`unknown ${what} limits flags 0x${flags.toString(16)}`);
  const min = reader.u32(`${what} minimum`);
  const max = flags & LIMITS_HAS_MAX ? reader.u32(`${what} maximum`) : undefined;
  return { flags, min, max };
}

function valueType(reader: ModuleReader): string {
  const code = reader.byte('a value type');
  if (code === REF_NULL || code === REF) {
    reader.skipS33('a heap type');
    return code === REF ? 'ref' : 'ref null';
  }
  return VALUE_TYPES.get(code) ?? `0x${code.toString(16)}`;
}

/** The element type of a table: copied through as bytes, never interpreted further. */
function skipReferenceType(reader: ModuleReader): void {
  const code = reader.byte('a table element type');
  if (code === 0x40)
    throw refused('the module declares a table with an initializer expression (wasm GC); Rust emits none');
  if (code === REF_NULL || code === REF) reader.skipS33('a heap type');
}

function tableElementsRefused(index: number, min: number): WasiLambdaError {
  return refused(
    `table ${index} starts with ${min} elements; the host allows at most ${MAX_TABLE_ELEMENTS} ` +
      `(${MAX_TABLES} tables), which real handlers stay far below`,
  );
}

function tooManyTables(): WasiLambdaError {
  return refused(`the module has more than ${MAX_TABLES} tables, which is all the host allows`);
}

/**
 * Applies the module policy to `module` and caps its linear memory at `maxMemoryPages` (the
 * guest's share of the function's memory, see `guestMemoryPages`). Without `maxMemoryPages`
 * the memory keeps its own maximum; tables are capped either way.
 *
 * Throws `MODULE_INVALID` for bytes that are not a well-formed module, `MODULE_REFUSED` for a
 * module that declares what the host does not allow, and `INVALID_CONFIG` when the module
 * needs more memory up front than the function's memory size leaves it.
 *
 * ```ts
 * const { bytes } = capModule(await readFile('hello.wasm'), guestMemoryPages(128));
 * const module = await WebAssembly.compile(bytes);
 * ```
 */
export function capModule(module: Uint8Array, maxMemoryPages?: number): CappedModule {
  if (module.length < 8 || module[0] !== 0x00 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) {
    throw new WasiLambdaError('MODULE_INVALID', 'not a WebAssembly module (bad magic number)');
  }
  if (module[4] !== 0x01 || module[5] !== 0x00 || module[6] !== 0x00 || module[7] !== 0x00) {
    throw invalid('not a core module of binary format version 1 (a component? load it with `--component`)');
  }
  const types: string[] = [];
  const functions: number[] = [];
  const exportTypes = new Map<string, string>();
  const rewritten: { start: number; end: number; section: Uint8Array }[] = [];
  let memories = 0;
  let tables = 0;
  let tableBytes = 0;
  let memoryMaxPages: number | undefined;
  let lastRank = -1;

  const top = new ModuleReader(module, 8, module.length);
  while (!top.done) {
    const sectionStart = top.pos;
    const id = top.byte('a section id');
    const size = top.u32('a section size');
    const reader = new ModuleReader(module, top.pos, top.pos + size);
    top.skip(size, `section ${id}`);
    if (id === 0) continue;
    const rank = SECTION_RANK.get(id);
    if (rank === undefined) throw invalid(`unknown section id ${id}`);
    if (rank <= lastRank) throw invalid(`section ${id} is out of order or repeated`);
    lastRank = rank;

    switch (id) {
      case SECTION_TYPE:
        for (let n = reader.u32('the type count'); n > 0; n--) {
          const form = reader.byte('a type');
          if (form !== 0x60) {
            throw refused(
              `the module declares wasm GC types (type form 0x${form.toString(16)}); the host allows function types only`,
            );
          }
          const params: string[] = [];
          for (let p = reader.u32('a parameter count'); p > 0; p--) params.push(valueType(reader));
          const results: string[] = [];
          for (let r = reader.u32('a result count'); r > 0; r--) results.push(valueType(reader));
          types.push(`[${params.join(' ')}] -> [${results.join(' ')}]`);
        }
        break;
      case SECTION_IMPORT:
        for (let n = reader.u32('the import count'); n > 0; n--) {
          reader.skipName('an import module name');
          reader.skipName('an import name');
          const kind = reader.byte('an import kind');
          if (kind === 0x00) functions.push(reader.u32('an import type index'));
          else if (kind === 0x01) {
            skipReferenceType(reader);
            const limits = readLimits(reader, 'table');
            if (limits.min > MAX_TABLE_ELEMENTS) throw tableElementsRefused(tables, limits.min);
            tables += 1;
            if (tables > MAX_TABLES) throw tooManyTables();
          } else if (kind === 0x02) {
            readLimits(reader, 'memory');
            memories += 1;
          } else if (kind === 0x03) {
            valueType(reader);
            reader.byte('a global mutability');
          } else if (kind === 0x04) {
            reader.byte('a tag attribute');
            reader.u32('a tag type index');
          } else throw invalid(`unknown import kind 0x${kind.toString(16)}`);
        }
        break;
      case SECTION_FUNCTION:
        for (let n = reader.u32('the function count'); n > 0; n--) functions.push(reader.u32('a type index'));
        break;
      case SECTION_TABLE: {
        const out: number[] = [];
        const count = reader.u32('the table count');
        writeU32(count, out);
        let changed = false;
        for (let n = count; n > 0; n--) {
          const typeStart = reader.pos;
          skipReferenceType(reader);
          const typeEnd = reader.pos;
          const limits = readLimits(reader, 'table');
          if (limits.min > MAX_TABLE_ELEMENTS) throw tableElementsRefused(tables, limits.min);
          const max = Math.min(limits.max ?? MAX_TABLE_ELEMENTS, MAX_TABLE_ELEMENTS);
          changed ||= max !== limits.max;
          tableBytes += max * TABLE_ELEMENT_BYTES;
          tables += 1;
          if (tables > MAX_TABLES) throw tooManyTables();
          for (let at = typeStart; at < typeEnd; at++) out.push(module[at] ?? 0);
          out.push(LIMITS_HAS_MAX);
          writeU32(limits.min, out);
          writeU32(max, out);
        }
        if (changed) rewritten.push({ start: sectionStart, end: reader.end, section: section(id, out) });
        break;
      }
      case SECTION_MEMORY: {
        const count = reader.u32('the memory count');
        if (count + memories > 1) {
          throw refused(`the module has ${count + memories} memories; the host gives a handler exactly one`);
        }
        if (count === 0) break;
        const limits = readLimits(reader, 'memory');
        memories += 1;
        if (maxMemoryPages === undefined) break;
        const budget = Math.min(maxMemoryPages, WASM32_MAX_PAGES) - Math.ceil(tableBytes / WASM_PAGE_BYTES);
        if (limits.min > budget) {
          const tablesNote = tableBytes > 0 ? ` after ${mb(tableBytes)} MB for its tables` : '';
          throw new WasiLambdaError(
            'INVALID_CONFIG',
            `the module starts with ${limits.min} pages (${mb(limits.min * WASM_PAGE_BYTES)} MB) but the memory size ` +
              `leaves the guest ${budget} pages${tablesNote}; raise memorySize`,
          );
        }
        memoryMaxPages = Math.min(limits.max ?? budget, budget);
        if (memoryMaxPages === limits.max) break;
        const out: number[] = [];
        writeU32(1, out);
        out.push(LIMITS_HAS_MAX);
        writeU32(limits.min, out);
        writeU32(memoryMaxPages, out);
        rewritten.push({ start: sectionStart, end: reader.end, section: section(id, out) });
        break;
      }
      case SECTION_EXPORT:
        for (let n = reader.u32('the export count'); n > 0; n--) {
          const name = reader.name('an export name');
          const kind = reader.byte('an export kind');
          const index = reader.u32('an export index');
          const type = kind === 0x00 ? types[functions[index] ?? -1] : undefined;
          if (type !== undefined) exportTypes.set(name, type);
        }
        break;
      default:
        continue;
    }
    if (!reader.done) throw invalid(`section ${id} has ${reader.end - reader.pos} bytes left over`);
  }
  return { bytes: splice(module, rewritten), memoryMaxPages, tableBytes, exportTypes };
}

function mb(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 100) / 100;
}

function section(id: number, payload: number[]): Uint8Array {
  const header = [id];
  writeU32(payload.length, header);
  return Uint8Array.from([...header, ...payload]);
}

/** The module with each rewritten section in place of the original: one copy, in order. */
function splice(module: Uint8Array, rewritten: { start: number; end: number; section: Uint8Array }[]): Uint8Array {
  if (rewritten.length === 0) return module;
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const r of rewritten) {
    parts.push(module.subarray(from, r.start), r.section);
    from = r.end;
  }
  parts.push(module.subarray(from));
  // Buffer.concat copies once into memory it does not zero first.
  return Buffer.concat(parts);
}
