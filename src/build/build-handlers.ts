import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WasiLambdaError } from '../errors.js';
import { WIT_VERSION } from '../host/abi.js';
import { runCargo } from './cargo.js';
import { handlerPackages } from './cargo-metadata.js';
import { withProgress } from './progress.js';
import { hashSources } from './source-hash.js';
import { freshStamp, writeStamp } from './stamp.js';
import { resolveWasmToolchain, type Toolchain, WASM_TARGET } from './toolchain.js';
import { optimizeModule } from './wasm-opt.js';

export interface BuildOptions {
  /** The Cargo workspace holding the handlers; defaults to `./wasm-handlers`. */
  workspace?: string | undefined;
  /** Allow installing a toolchain (rustup target, apt-get as root). Default true. */
  install?: boolean | undefined;
  /** Rebuild even when the sources are unchanged. */
  force?: boolean | undefined;
  /** Progress notes; defaults to stderr. */
  note?: ((message: string) => void) | undefined;
  /** Run `wasm-opt -O3` on each module (default, unless WASI_LAMBDA_WASM_OPT=0). */
  optimize?: boolean | undefined;
}

export interface BuildResult {
  /** Package name → built `.wasm` (a `cdylib` per package). */
  handlers: Record<string, string>;
  /** True when nothing was compiled because the sources were unchanged. */
  cached: boolean;
  toolchain: string;
}

/**
 * The Cargo workspace a command uses without `--workspace`: the current directory when it
 * holds a `Cargo.toml` (a project made by `wasi-lambda new`), else this repository's
 * `wasm-handlers/`.
 */
export function defaultWorkspace(cwd: string = process.cwd()): string {
  return existsSync(join(cwd, 'Cargo.toml')) ? '.' : 'wasm-handlers';
}

export const DEFAULT_WORKSPACE = defaultWorkspace();

/** Where built artifacts are copied: one stable path whichever toolchain built them. */
export function outputDir(workspace: string): string {
  return join(workspace, 'target', 'wasi-lambda');
}

/** Resolves the workspace and the defaults shared by every build. */
export function buildContext(options: BuildOptions) {
  const workspace = resolve(options.workspace ?? DEFAULT_WORKSPACE);
  const note = options.note ?? ((message: string) => process.stderr.write(`wasi-lambda: ${message}\n`));
  if (!existsSync(join(workspace, 'Cargo.toml'))) {
    throw new WasiLambdaError('HANDLER_NOT_FOUND', `no Cargo workspace at ${workspace} (Cargo.toml missing)`);
  }
  return { workspace, note, install: options.install ?? true, sources: buildInputs(workspace) };
}

/**
 * What decides the modules besides the workspace's own sources: the world's version, the way
 * handlers are linked, and the SDK when `npm install` put it under `node_modules` (a project
 * made by `wasi-lambda new` patches it in from there), so that upgrading wasi-lambda rebuilds.
 */
function buildInputs(workspace: string): string {
  const sdk = join(workspace, 'node_modules', 'wasi-lambda', 'sdk');
  const parts = [hashSources(workspace), `wit@${WIT_VERSION}`, 'cdylib+lto'];
  if (existsSync(sdk)) parts.push(hashSources(sdk));
  return parts.join(' ');
}

/**
 * Builds every handler crate (a workspace package with a `cdylib` library) as a `cdylib` only,
 * with the given toolchain, and returns package name → `.wasm` in cargo's target directory (no
 * caching, no copying).
 *
 * One `cargo rustc --crate-type cdylib` per handler rather than one `cargo build --workspace`:
 * a handler is also an `rlib` (its native bootstrap and tests link it), and cargo performs no
 * LTO on a library built as both, so the profile's `lto = true` would never reach the modules.
 * With it, the bench's transform module is 4 % smaller and ~2 % faster.
 */
export async function compileWorkspace(workspace: string, toolchain: Toolchain): Promise<Record<string, string>> {
  const artifacts: Record<string, string> = {};
  for (const { name, id } of handlerPackages(workspace, toolchain)) {
    await runCargo(toolchain, workspace, ['rustc', '-p', id, '--lib', '--crate-type', 'cdylib'], (artifact) => {
      if (!artifact.target?.crate_types?.includes('cdylib')) return;
      // Some registry crates are cdylibs too (crc-fast, under the AWS SDK's checksums): only
      // the package asked for is the handler.
      if (artifact.package_id !== id) return;
      const wasm = artifact.filenames?.find((file) => file.endsWith('.wasm'));
      if (wasm) artifacts[name] = wasm;
    });
    // Not a module left out quietly (and then served from the build stamp as if built).
    if (artifacts[name] === undefined) {
      throw new WasiLambdaError('BUILD_FAILED', `cargo did not report a .wasm for ${name} (${id})`);
    }
  }
  return artifacts;
}

/**
 * Builds every handler crate of the workspace to `wasm32-wasip1` and copies the modules to
 * `target/wasi-lambda/<package>.wasm`. Unchanged sources are not rebuilt.
 *
 * ```ts
 * const { handlers } = await buildHandlers();
 * const host = await WasmHost.fromFile(handlers.hello!);
 * ```
 */
export async function buildHandlers(options: BuildOptions = {}): Promise<BuildResult> {
  const { workspace, note, install, sources } = buildContext(options);
  const out = outputDir(workspace);
  const stampPath = join(out, 'build-stamp.json');
  const stamp = options.force ? undefined : freshStamp<Record<string, string>>(stampPath, sources, Object.values);
  if (stamp) return { handlers: stamp.outputs, cached: true, toolchain: stamp.toolchain };

  const toolchain = resolveWasmToolchain({ install, note, workspace });
  note(`building ${WASM_TARGET} handlers in ${workspace} with ${toolchain.version} (${toolchain.kind})`);
  const artifacts = await compileWorkspace(workspace, toolchain);
  mkdirSync(out, { recursive: true });
  const handlers = await withProgress('optimising the modules (wasm-opt -O3)', () =>
    placeModules(artifacts, out, options),
  );
  writeStamp(stampPath, { sources, toolchain: toolchain.version, outputs: handlers });
  return { handlers, cached: false, toolchain: toolchain.version };
}

/** Copies each module to `out/<package>.wasm`, optimised, atomically. */
async function placeModules(
  artifacts: Record<string, string>,
  out: string,
  options: BuildOptions,
): Promise<Record<string, string>> {
  const handlers: Record<string, string> = {};
  for (const [name, file] of Object.entries(artifacts)) {
    const target = join(out, `${name}.wasm`);
    // Written beside and renamed over: a reader (an emulator serving `watch`) sees the old
    // module or the new one, never a half-copied or half-optimised file.
    const staged = `${target}.${process.pid}.tmp`;
    copyFileSync(file, staged);
    if (options.optimize ?? process.env.WASI_LAMBDA_WASM_OPT !== '0') await optimizeModule(staged);
    renameSync(staged, target);
    handlers[name] = target;
  }
  return handlers;
}
