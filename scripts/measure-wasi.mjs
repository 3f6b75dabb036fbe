// Measures wasi-lambda's own WASI preview1 layer (src/wasi) against node:wasi, @wasmer/wasi
// and, when installed somewhere, @bjorn3/browser_wasi_shim:
//   1. conformance: the 72 wasm32-wasip1 tests of ../shared/wasi-testsuite, each in a fresh
//      process with its own copy of its folder (ours through `node dist/cli.js run`, as a
//      user runs it; the others through a minimal runner in this script);
//   2. cold start: import the implementation + create one session, in a fresh process,
//      median of 15;
//   3. one more session in a warm process (what fresh instance mode pays per invocation);
//   4. per call: fd_write of one 40-byte line and clock_time_get, from a wasm loop, median
//      of 5 runs of 200,000 calls each, in a fresh process per implementation.
// Run after `npm run build:js`:
//   node scripts/measure-wasi.mjs [--shim DIR] [--skip-conformance]
// where DIR holds node_modules/@bjorn3/browser_wasi_shim (e.g. `npm install --prefix /tmp/shim
// @bjorn3/browser_wasi_shim`; it is not a dependency of wasi-lambda).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const suite = resolve(repo, '../shared/wasi-testsuite');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};

/** Our layer, bundled once so a child process can import it without a TypeScript loader. */
async function bundleOurs() {
  const out = join(mkdtempSync(join(tmpdir(), 'measure-wasi-')), 'wasi.mjs');
  const { build } = await import('esbuild');
  writeFileSync(join(dirname(out), 'warm.mjs'), 'export {};\n');
  await build({
    entryPoints: [join(repo, 'src/wasi/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'warning',
  });
  return out;
}

async function importNodeWasi() {
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return await import('node:wasi');
  } finally {
    process.emitWarning = emit;
  }
}

async function importShim(dir) {
  return import(pathToFileURL(join(dir, 'node_modules/@bjorn3/browser_wasi_shim/dist/index.js')).href);
}

/** A host directory as browser_wasi_shim's in-memory tree. */
function shimTree(shim, dir) {
  const entries = new Map();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) entries.set(name, shimTree(shim, path));
    else entries.set(name, new shim.File(readFileSync(path)));
  }
  return new shim.Directory(entries);
}

// ---- child modes ---------------------------------------------------------------------------

/** `--child-test IMPL WASM WORKDIR`: run one testsuite test; stdout and status are the test's. */
async function childTest(impl, wasm, work) {
  const json = wasm.replace(/\.wasm$/, '.json');
  const spec = existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : {};
  process.chdir(work);
  const args = [wasm, ...(spec.args ?? [])];
  const env = spec.env ?? {};
  const root = spec.root === undefined ? undefined : join(work, spec.root);
  const module = await WebAssembly.compile(readFileSync(wasm));
  if (impl === 'node') {
    const { WASI } = await importNodeWasi();
    const wasi = new WASI({ version: 'preview1', args, env, preopens: root ? { '/': root } : {}, returnOnExit: true });
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport });
    process.exitCode = wasi.start(instance);
  } else if (impl === 'shim') {
    const shim = await importShim(arg('--shim'));
    const { writeSync } = await import('node:fs');
    const fds = [
      new shim.OpenFile(new shim.File([])),
      new shim.ConsoleStdout((b) => writeSync(1, b)),
      new shim.ConsoleStdout((b) => writeSync(2, b)),
    ];
    if (root) fds.push(new shim.PreopenDirectory('/', shimTree(shim, root).contents));
    const wasi = new shim.WASI(
      args,
      Object.entries(env).map(([k, v]) => `${k}=${v}`),
      fds,
    );
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport });
    process.exitCode = wasi.start(instance);
  }
}

/** `--child-cold IMPL OURS`: prints ms to import IMPL and create one session. */
async function childCold(impl, ours) {
  // The first dynamic import() of a builtin and of a file pay for the ESM loader itself
  // (~4 ms each here, for any module): pay them before the clock starts, as a host that
  // already runs has.
  await import('node:path');
  await import(pathToFileURL(join(dirname(ours), 'warm.mjs')).href);
  const t = performance.now();
  if (impl === 'ours') {
    const { Preview1, MemoryFilesystem } = await import(pathToFileURL(ours).href);
    new Preview1({ args: ['x'], env: {}, output() {}, preopens: { '/tmp': new MemoryFilesystem().root } });
  } else if (impl === 'node') {
    const { WASI } = await importNodeWasi();
    new WASI({ version: 'preview1', args: ['x'], env: {} });
  } else if (impl === 'wasmer') {
    const { init, WASI } = await import('@wasmer/wasi');
    await init();
    new WASI({ args: ['x'], env: {} });
  } else if (impl === 'shim') {
    const shim = await importShim(arg('--shim'));
    new shim.WASI(
      ['x'],
      [],
      [new shim.OpenFile(new shim.File([])), new shim.ConsoleStdout(() => {}), new shim.ConsoleStdout(() => {})],
    );
  }
  process.stdout.write(`${performance.now() - t}\n`);
}

/** `--child-session IMPL OURS`: prints µs to create one more session in a warm process (fresh mode does one per invocation). */
async function childSession(impl, ours) {
  let make;
  if (impl === 'ours') {
    const { Preview1, MemoryFilesystem } = await import(pathToFileURL(ours).href);
    make = () =>
      new Preview1({ args: ['x'], env: { A: '1' }, output() {}, preopens: { '/tmp': new MemoryFilesystem().root } });
  } else if (impl === 'node') {
    const { WASI } = await importNodeWasi();
    make = () => new WASI({ version: 'preview1', args: ['x'], env: { A: '1' } });
  } else if (impl === 'wasmer') {
    const { init, WASI } = await import('@wasmer/wasi');
    await init();
    make = () => new WASI({ args: ['x'], env: { A: '1' } }).free();
  } else {
    const shim = await importShim(arg('--shim'));
    make = () =>
      new shim.WASI(
        ['x'],
        ['A=1'],
        [new shim.OpenFile(new shim.File([])), new shim.ConsoleStdout(() => {}), new shim.ConsoleStdout(() => {})],
      );
  }
  for (let i = 0; i < 2000; i++) make();
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < 5000; i++) make();
    runs.push(((performance.now() - t) / 5000) * 1000);
  }
  process.stdout.write(`${median(runs)}\n`);
}

const BENCH_WAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "a 40-byte line of guest output, for fd\\n")
  (func (export "_start"))
  (func (export "write") (param $n i32)
    (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 40))
    (loop $l (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "clock") (param $n i32)
    (loop $l (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 16)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`;

/** `--child-calls IMPL OURS`: prints ns per fd_write and per clock_time_get (medians of 5). */
async function childCalls(impl, ours) {
  const { parse } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  const module = await WebAssembly.compile(await parse(BENCH_WAT));
  let imports;
  let bind;
  if (impl === 'ours') {
    const { Preview1 } = await import(pathToFileURL(ours).href);
    const wasi = new Preview1({ args: [], env: {}, output() {} });
    imports = wasi.imports;
    bind = (instance) => wasi.bind(instance.exports.memory);
  } else if (impl === 'node') {
    const { WASI } = await importNodeWasi();
    const devNull = openSync('/dev/null', 'w');
    const wasi = new WASI({ version: 'preview1', stdout: devNull, returnOnExit: true });
    imports = wasi.wasiImport;
    bind = (instance) => wasi.initialize({ exports: { memory: instance.exports.memory } });
  } else if (impl === 'wasmer') {
    const { init, WASI } = await import('@wasmer/wasi');
    await init();
    const wasi = new WASI({ args: [], env: {} });
    imports = wasi.getImports(module).wasi_snapshot_preview1;
    bind = (instance) => wasi.instantiate(instance, {});
  } else {
    const shim = await importShim(arg('--shim'));
    const wasi = new shim.WASI(
      [],
      [],
      [new shim.OpenFile(new shim.File([])), new shim.ConsoleStdout(() => {}), new shim.ConsoleStdout(() => {})],
    );
    imports = wasi.wasiImport;
    bind = (instance) => {
      wasi.inst = instance;
    };
  }
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: imports });
  bind(instance);
  const n = 200_000;
  const per = (name) => {
    instance.exports[name](n / 10); // warm up
    const runs = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      instance.exports[name](n);
      runs.push(Number(process.hrtime.bigint() - t) / n);
    }
    return median(runs);
  };
  process.stdout.write(`${JSON.stringify({ fd_write: per('write'), clock_time_get: per('clock') })}\n`);
}

// ---- the measurement -----------------------------------------------------------------------

function suiteTests() {
  return ['assemblyscript', 'c', 'rust'].flatMap((lang) => {
    const folder = join(suite, lang, 'testsuite', 'wasm32-wasip1');
    return readdirSync(folder)
      .filter((f) => f.endsWith('.wasm'))
      .map((f) => join(folder, f));
  });
}

function runTest(impl, wasm) {
  const json = wasm.replace(/\.wasm$/, '.json');
  const spec = existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : {};
  const work = mkdtempSync(join(tmpdir(), 'measure-wasi-test-'));
  try {
    if (spec.root !== undefined) {
      cpSync(join(dirname(wasm), spec.root), join(work, spec.root), { recursive: true });
      for (const entry of readdirSync(work, { recursive: true })) chmodSync(join(work, String(entry)), 0o755);
    }
    let argv;
    if (impl === 'ours') {
      argv = [join(repo, 'dist/cli.js'), 'run', wasm];
      for (const [k, v] of Object.entries(spec.env ?? {})) argv.push('--env', `${k}=${v}`);
      if (spec.root !== undefined) argv.push('--dir', `${join(work, spec.root)}::/`);
      argv.push('--', ...(spec.args ?? []));
    } else {
      argv = [
        fileURLToPath(import.meta.url),
        '--child-test',
        impl,
        wasm,
        work,
        ...(impl === 'shim' ? ['--shim', arg('--shim')] : []),
      ];
    }
    const r = spawnSync(process.execPath, argv, { cwd: work, encoding: 'utf8', timeout: 30_000 });
    const passed = r.status === (spec.exit_code ?? 0) && (spec.stdout === undefined || r.stdout === spec.stdout);
    return passed;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function child(mode, impl, ours) {
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), mode, impl, ours, ...(arg('--shim') ? ['--shim', arg('--shim')] : [])],
    {
      cwd: repo,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`${mode} ${impl} failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function main() {
  const ours = await bundleOurs();
  // @wasmer/wasi is measured while it is still installed (it was the host's default).
  const wasmer = await import('@wasmer/wasi').then(
    () => ['wasmer'],
    () => [],
  );
  const impls = ['ours', 'node', ...wasmer, ...(arg('--shim') ? ['shim'] : [])];
  if (!process.argv.includes('--skip-conformance') && existsSync(suite)) {
    const tests = suiteTests();
    console.log(`conformance (${tests.length} wasm32-wasip1 tests of wasi-testsuite, one process each):`);
    // @wasmer/wasi is not run: it panics inside its own module on poll_oneoff and proc_raise.
    for (const impl of impls.filter((i) => i !== 'wasmer')) {
      const failed = tests.filter((t) => !runTest(impl, t)).map((t) => basename(t, '.wasm'));
      console.log(
        `  ${impl.padEnd(6)} ${tests.length - failed.length}/${tests.length}${failed.length ? `  failed: ${failed.join(', ')}` : ''}`,
      );
    }
  }
  console.log('cold start (import + one session, fresh process, median of 15), ms:');
  for (const impl of impls) {
    const samples = Array.from({ length: 15 }, () => Number(child('--child-cold', impl, ours)));
    console.log(`  ${impl.padEnd(6)} ${median(samples).toFixed(2)}`);
  }
  console.log('one more session in a warm process (median of 5 x 5,000), µs:');
  for (const impl of impls)
    console.log(`  ${impl.padEnd(6)} ${Number(child('--child-session', impl, ours)).toFixed(1)}`);
  console.log('per call (median of 5 x 200,000 calls from a wasm loop), ns:');
  for (const impl of impls) {
    const r = JSON.parse(child('--child-calls', impl, ours));
    console.log(
      `  ${impl.padEnd(6)} fd_write(40 B) ${r.fd_write.toFixed(0).padStart(6)}   clock_time_get ${r.clock_time_get.toFixed(0).padStart(6)}`,
    );
  }
  rmSync(dirname(ours), { recursive: true, force: true });
}

const mode = process.argv[2];
if (mode === '--child-test') await childTest(process.argv[3], process.argv[4], process.argv[5]);
else if (mode === '--child-cold') await childCold(process.argv[3], process.argv[4]);
else if (mode === '--child-calls') await childCalls(process.argv[3], process.argv[4]);
else if (mode === '--child-session') await childSession(process.argv[3], process.argv[4]);
else await main();
