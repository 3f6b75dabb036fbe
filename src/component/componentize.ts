import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toError, WasiLambdaError } from '../errors.js';
import { checkContract } from '../host/abi.js';

/**
 * The WIT worlds a handler module implements: `lambda-handler` (`handle`), or, for a module
 * whose init is user code (`#[wasi_lambda::main]`, which exports `init`), `lambda-service`.
 */
export type World = 'lambda-handler' | 'lambda-service';

/** The world a core module implements, read from its exports. */
export async function worldOf(core: Uint8Array): Promise<World> {
  return worldOfModule(await WebAssembly.compile(core as Uint8Array<ArrayBuffer>));
}

function worldOfModule(module: WebAssembly.Module): World {
  return WebAssembly.Module.exports(module).some((e) => e.name === 'init' && e.kind === 'function')
    ? 'lambda-service'
    : 'lambda-handler';
}

const require = createRequire(import.meta.url);

/** The WIT file, found next to the package whether run from `src/` or `dist/`. */
export async function readWorldWit(): Promise<string> {
  const candidates = ['../../wasm-handlers/wit/handler.wit', '../wasm-handlers/wit/handler.wit'];
  for (const candidate of candidates) {
    try {
      return await readFile(fileURLToPath(new URL(candidate, import.meta.url)), 'utf8');
    } catch {
      // try the next layout
    }
  }
  throw new WasiLambdaError('INVALID_CONFIG', 'cannot find wasm-handlers/wit/handler.wit next to wasi-lambda');
}

/** jco ships the adapter in `lib/` without exporting it; locate it from the package entry. */
function reactorAdapterPath(): string {
  return join(dirname(require.resolve('@bytecodealliance/jco')), '..', 'lib', 'wasi_snapshot_preview1.reactor.wasm');
}

/**
 * Wraps a core handler module as a WebAssembly component of its world (`worldOf`):
 * embeds the world (the library call, since `jco embed` cannot read host paths) and adapts
 * WASI preview1 imports with jco's shipped preview1 reactor adapter.
 *
 * ```ts
 * const component = await componentize(await readFile('hello.wasm'));
 * ```
 */
export async function componentize(core: Uint8Array): Promise<Uint8Array> {
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  const adapter = await readFile(reactorAdapterPath());
  // The direct host's refusals, in its order: jco lifts the arguments by the world's layout,
  // so a module built for another version of the world (`checkAbiVersion`) would misread them
  // inside the component as it would on the direct path.
  const module = await WebAssembly.compile(core as Uint8Array<ArrayBuffer>);
  checkContract(module);
  const world = worldOfModule(module);
  try {
    const embedded = await componentEmbed({ binary: core, witSource: await readWorldWit(), world });
    return await componentNew(embedded, [['wasi_snapshot_preview1', adapter]]);
  } catch (err) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `the module does not implement the ${world} world: ${toError(err).message}`,
      { cause: err },
    );
  }
}
