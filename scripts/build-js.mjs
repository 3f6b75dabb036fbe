// Bundles the TypeScript sources with esbuild: the CLI and library for Node, and the
// Lambda entry as one self-contained file (dependencies inlined) for the managed runtime.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // esbuild's ESM output has no `require`; some dependencies still call it for builtins.
  banner: {
    js: "import { createRequire as __wlCreateRequire } from 'node:module'; const require = __wlCreateRequire(import.meta.url);",
  },
};

// The guest's worker thread (src/host/guest-worker.ts), self-contained, beside every bundle
// that starts one: hosts find it as `./guest-worker.mjs` relative to themselves.
const workerBundles = ['dist', 'dist/lambda', 'dist/runtime'].map((dir) =>
  build({
    ...common,
    entryPoints: ['src/host/guest-worker.ts'],
    outfile: `${dir}/guest-worker.mjs`,
    minify: dir !== 'dist',
  }),
);

// What runs on Lambda, minified; dependencies' ES module builds are preferred, which lets esbuild
// drop what is not used (the AWS signer's CommonJS build is ~125 KiB more).
const lambda = { ...common, minify: true, mainFields: ['module', 'main'] };

// An earlier build's ES module runtime and its chunks would otherwise linger beside this one's.
for (const file of existsSync('dist/runtime') ? readdirSync('dist/runtime', { withFileTypes: true }) : []) {
  if (/^wasm-runtime(-\w+)?\.mjs(\.map)?$/.test(file.name)) rmSync(`dist/runtime/${file.name}`);
}

await Promise.all([
  ...workerBundles,
  build({ ...common, entryPoints: ['src/cli/index.ts'], outfile: 'dist/cli.js', packages: 'external' }),
  build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', packages: 'external' }),
  // The bench's in-process measurements, each in a child process pinned to one CPU (PinnedRunner).
  build({
    ...common,
    entryPoints: ['src/bench/in-process-child.ts'],
    outfile: 'dist/bench-in-process.js',
    packages: 'external',
  }),
  // The host alone, self-contained: what the cross-architecture check loads on arm64.
  build({ ...common, entryPoints: ['src/host/wasm-host.ts'], outfile: 'dist/host.mjs' }),
  build({ ...lambda, entryPoints: ['src/lambda/handler.ts'], outfile: 'dist/lambda/handler.mjs' }),
  // `wasi-lambda/runtime`: the Lambda side alone, self-contained, beside its guest worker.
  build({ ...common, entryPoints: ['src/runtime-exports.ts'], outfile: 'dist/runtime/index.mjs' }),
  // Runtime API clients, self-contained: the emulator runs them as the function's process.
  // The raw-bytes one is CommonJS, one file: Node.js starts a CommonJS entry without loading
  // its ES module loader (~5-9 ms of CPU at every cold start, measured with
  // scripts/measure-coldstart.mjs). What only some functions use (the worker, the outbound
  // bridge with node:http, node:crypto and the AWS signer, the component host) is behind
  // `import()`, which esbuild turns into lazily run module bodies: an inline core guest starts
  // without running them, and V8 only pre-parses their functions.
  build({
    ...lambda,
    format: 'cjs',
    entryPoints: ['src/runtime/wasm-runtime.ts'],
    outfile: 'dist/runtime/wasm-runtime.cjs',
    define: { 'import.meta.url': '__wlImportMetaUrl' },
    banner: { js: 'const __wlImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  }),
  build({
    ...common,
    entryPoints: ['src/runtime/node-runtime.ts'],
    outfile: 'dist/runtime/node-runtime.mjs',
    minify: true,
  }),
]);
