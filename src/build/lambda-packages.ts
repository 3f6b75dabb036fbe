import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WasiLambdaError } from '../errors.js';
import { type BuildOptions, buildHandlers } from './build-handlers.js';
import { buildNative } from './build-native.js';
import { zip } from './zip.js';

/** Where deployment packages go, relative to the project (the serverless.yml directory). */
export const PACKAGE_DIR = join('build', 'lambda');

export interface LambdaPackages {
  /** Handler → zip for the Node.js runtime: `build/lambda/<handler>/{handler.js,handler.wasm,package.json}`. */
  node: Record<string, string>;
  /** Handler → zip for the Node.js runtime with `AWS_LAMBDA_EXEC_WRAPPER=/var/task/wrapper`. */
  rawNode: Record<string, string>;
  /** Handler → zip for `provided.al2023`: `bootstrap` alone. */
  native: Record<string, string>;
}

const MODULE_PACKAGE_JSON = Buffer.from('{ "type": "module" }\n');

/**
 * Lambda runs `$AWS_LAMBDA_EXEC_WRAPPER <runtime bootstrap> …`; this wrapper ignores the
 * managed runtime and starts wasi-lambda's raw-bytes Runtime API client with the same Node.js.
 */
const RAW_WRAPPER = Buffer.from(
  '#!/bin/sh\n# wasi-lambda: serve this function with the raw-bytes runtime client instead of the managed loop.\nexec node "$(dirname "$0")/runtime.cjs"\n',
);

/** A self-contained bundle shipped in this package's `dist/` (`lambda/handler.mjs`, …). */
function distFile(file: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'dist', file);
    if (existsSync(candidate)) return candidate;
    if (existsSync(join(dir, 'package.json'))) break;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new WasiLambdaError('INVALID_CONFIG', `dist/${file} is missing; run \`npm run build:js\` first`);
}

/**
 * Builds every handler and writes one deployment package per function, individually:
 * for the Node.js runtime the entry bundle, the guest's worker bundle and the `.wasm` (the same zip serves x86_64 and
 * arm64), for `provided.al2023` the native `bootstrap`. Nothing else goes in a zip.
 *
 * Node.js zips keep the files at `build/lambda/<handler>/` so the function handler
 * `build/lambda/<handler>/handler.handler` also resolves locally (`serverless invoke local`).
 * The bundle is ESM named `handler.js` beside a `package.json` saying `"type": "module"`:
 * both Lambda's runtime and `serverless invoke local` load that, while only Lambda loads `.mjs`.
 *
 * ```ts
 * const { node, native } = await packageLambdaFunctions({ projectDir: '.' });
 * ```
 */
export async function packageLambdaFunctions(
  options: BuildOptions & { projectDir?: string | undefined; native?: boolean | undefined },
): Promise<LambdaPackages> {
  const project = resolve(options.projectDir ?? '.');
  const out = join(project, PACKAGE_DIR);
  const bundle = readFileSync(distFile('lambda/handler.mjs'));
  // The raw-bytes runtime client, one CommonJS file (see scripts/build-js.mjs).
  const runtime = readFileSync(distFile('runtime/wasm-runtime.cjs'));
  // The guest runs on a worker thread; its bundle sits beside the entry that starts it.
  const worker = readFileSync(distFile('lambda/guest-worker.mjs'));
  const { handlers } = await buildHandlers(options);
  const node: Record<string, string> = {};
  const rawNode: Record<string, string> = {};
  for (const [name, wasm] of Object.entries(handlers)) {
    const dir = join(out, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'handler.js'), bundle);
    writeFileSync(join(dir, 'guest-worker.mjs'), worker);
    writeFileSync(join(dir, 'package.json'), MODULE_PACKAGE_JSON);
    copyFileSync(wasm, join(dir, 'handler.wasm'));
    const prefix = relative(project, dir).split('\\').join('/');
    const archive = join(out, `${name}.zip`);
    writeFileSync(
      archive,
      zip([
        { name: `${prefix}/handler.js`, data: bundle },
        { name: `${prefix}/guest-worker.mjs`, data: worker },
        { name: `${prefix}/handler.wasm`, data: readFileSync(wasm) },
        { name: `${prefix}/package.json`, data: MODULE_PACKAGE_JSON },
      ]),
    );
    node[name] = archive;
    // The raw-bytes variant: Lambda's managed runtime hands over to wasi-lambda's own
    // Runtime API client through AWS_LAMBDA_EXEC_WRAPPER=/var/task/wrapper.
    const raw = join(out, `${name}-raw.zip`);
    writeFileSync(
      raw,
      zip([
        { name: 'wrapper', data: RAW_WRAPPER, mode: 0o755 },
        { name: 'runtime.cjs', data: runtime },
        { name: 'guest-worker.mjs', data: worker },
        { name: 'handler.wasm', data: readFileSync(wasm) },
      ]),
    );
    rawNode[name] = raw;
  }
  const native: Record<string, string> = {};
  if (options.native ?? true) {
    const { bootstraps } = await buildNative(options);
    for (const [name, artifact] of Object.entries(bootstraps)) {
      const archive = join(out, `${name}-native.zip`);
      copyFileSync(artifact.zip, archive);
      native[name] = archive;
    }
  }
  return { node, rawNode, native };
}
