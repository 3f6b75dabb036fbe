import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WasiLambdaError } from '../errors.js';
import { stream } from './run.js';
import { hashSources } from './source-hash.js';
import { resolveWasmToolchain, type Toolchain, WASM_TARGET } from './toolchain.js';

export interface BuildOptions {
  /** The Cargo workspace holding the handlers; defaults to `./wasm-handlers`. */
  workspace?: string;
  /** Allow installing a toolchain (rustup target, apt-get as root). Default true. */
  install?: boolean;
  /** Rebuild even when the sources are unchanged. */
  force?: boolean;
  /** Progress notes; defaults to stderr. */
  note?: (message: string) => void;
}

export interface BuildResult {
  /** Package name → built `.wasm` (a `cdylib` per package). */
  handlers: Record<string, string>;
  /** True when nothing was compiled because the sources were unchanged. */
  cached: boolean;
  toolchain: string;
}

interface Stamp {
  sources: string;
  toolchain: string;
  handlers: Record<string, string>;
}

export const DEFAULT_WORKSPACE = 'wasm-handlers';

/** Where built modules are copied: one stable path whichever toolchain built them. */
export function outputDir(workspace: string): string {
  return join(workspace, 'target', 'wasi-lambda');
}

function readStamp(path: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

interface CargoArtifact {
  reason?: string;
  package_id?: string;
  target?: { name?: string; crate_types?: string[] };
  filenames?: string[];
}

/** `path+file:///…/examples/http-api#0.1.0` or `…#http-api@0.1.0` → `http-api`. */
function packageName(packageId: string): string | undefined {
  const fragment = packageId.split('#').at(-1) ?? '';
  if (fragment.includes('@')) return fragment.split('@')[0];
  return packageId.split('#')[0]?.split('/').at(-1);
}

/**
 * Runs `cargo build` for every `cdylib` in the workspace with the given toolchain and returns
 * package name → `.wasm` in cargo's target directory (no caching, no copying).
 */
export async function compileWorkspace(workspace: string, toolchain: Toolchain): Promise<Record<string, string>> {
  const artifacts: Record<string, string> = {};
  const args = [
    'build',
    '--release',
    '--workspace',
    '--lib',
    '--target',
    WASM_TARGET,
    '--target-dir',
    toolchain.targetSubdir,
    '--message-format=json-render-diagnostics',
    ...toolchain.args,
  ];
  const status = await stream(toolchain.cargo, args, {
    cwd: workspace,
    env: toolchain.env,
    onStdoutLine(line) {
      if (!line.startsWith('{')) return;
      const message = JSON.parse(line) as CargoArtifact;
      if (message.reason !== 'compiler-artifact' || !message.target?.crate_types?.includes('cdylib')) return;
      const wasm = message.filenames?.find((file) => file.endsWith('.wasm'));
      const name = message.package_id ? packageName(message.package_id) : message.target.name;
      if (wasm && name) artifacts[name] = wasm;
    },
  });
  if (status !== 0) {
    throw new WasiLambdaError(
      'BUILD_FAILED',
      `cargo build for ${WASM_TARGET} failed (exit ${status}); see the compiler output above`,
    );
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
  const workspace = resolve(options.workspace ?? DEFAULT_WORKSPACE);
  const note = options.note ?? ((message: string) => process.stderr.write(`wasi-lambda: ${message}\n`));
  if (!existsSync(join(workspace, 'Cargo.toml'))) {
    throw new WasiLambdaError('HANDLER_NOT_FOUND', `no Cargo workspace at ${workspace} (Cargo.toml missing)`);
  }
  const out = outputDir(workspace);
  const stampPath = join(out, 'build-stamp.json');
  const sources = hashSources(workspace);
  const stamp = readStamp(stampPath);
  if (!options.force && stamp?.sources === sources && Object.values(stamp.handlers).every((file) => existsSync(file))) {
    return { handlers: stamp.handlers, cached: true, toolchain: stamp.toolchain };
  }

  const toolchain = resolveWasmToolchain({ install: options.install ?? true, note });
  note(`building ${WASM_TARGET} handlers in ${workspace} with ${toolchain.version} (${toolchain.kind})`);
  const artifacts = await compileWorkspace(workspace, toolchain);
  mkdirSync(out, { recursive: true });
  const handlers: Record<string, string> = {};
  for (const [name, file] of Object.entries(artifacts)) {
    const target = join(out, `${name}.wasm`);
    copyFileSync(file, target);
    handlers[name] = target;
  }
  writeFileSync(stampPath, `${JSON.stringify({ sources, toolchain: toolchain.version, handlers }, null, 2)}\n`);
  return { handlers, cached: false, toolchain: toolchain.version };
}
