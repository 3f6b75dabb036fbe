import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildComponents } from '../component/build-components.js';
import { FUNCTION_DEFAULTS, type FunctionConfig, type FunctionKind } from '../emulator/function-config.js';
import { WasiLambdaError } from '../errors.js';
import { buildHandlers } from './build-handlers.js';
import { buildNative } from './build-native.js';

/** Where plain Node.js versions of the examples live (the baseline). */
export const NODE_BASELINES = 'baselines/node';

export interface LocalFunctionOptions {
  workspace?: string | undefined;
  install?: boolean | undefined;
  kinds: readonly FunctionKind[];
  overrides?: Partial<Omit<FunctionConfig, 'name' | 'kind' | 'code'>> | undefined;
}

/** The suffix that tells the kinds apart in a function name: `hello`, `hello-native`, `hello-node`. */
export function functionName(handler: string, kind: FunctionKind): string {
  return kind === 'wasm' ? handler : `${handler}-${kind}`;
}

/**
 * The functions `serve` offers: every handler crate as wasm and as a native bootstrap, and
 * every Node.js baseline in `baselines/node/`. Builds what is out of date.
 */
export async function localFunctions(options: LocalFunctionOptions): Promise<FunctionConfig[]> {
  const defaults = { ...FUNCTION_DEFAULTS, ...options.overrides };
  const functions: FunctionConfig[] = [];
  const build = { workspace: options.workspace, install: options.install };
  if (options.kinds.includes('wasm')) {
    const { handlers } = await buildHandlers(build);
    for (const [name, code] of Object.entries(handlers)) functions.push({ ...defaults, name, kind: 'wasm', code });
  }
  if (options.kinds.includes('native')) {
    const { bootstraps } = await buildNative(build);
    for (const [name, artifact] of Object.entries(bootstraps)) {
      functions.push({ ...defaults, name: functionName(name, 'native'), kind: 'native', code: artifact.bootstrap });
    }
  }
  if (options.kinds.includes('node') && existsSync(NODE_BASELINES)) {
    for (const file of readdirSync(NODE_BASELINES).filter((f) => f.endsWith('.mjs'))) {
      const base = file.slice(0, -'.mjs'.length);
      functions.push({
        ...defaults,
        name: functionName(base, 'node'),
        kind: 'node',
        code: NODE_BASELINES,
        handler: `${base}.handler`,
      });
    }
  }
  return functions.sort((a, b) => a.name.localeCompare(b.name));
}

/** One handler as one kind of function, for `invoke --target`. */
export async function localFunction(
  handler: string,
  kind: FunctionKind,
  options: Omit<LocalFunctionOptions, 'kinds'> & { backend?: 'core' | 'component' | undefined },
): Promise<FunctionConfig> {
  const defaults = { ...FUNCTION_DEFAULTS, ...options.overrides, maxConcurrency: 1 };
  const build = { workspace: options.workspace, install: options.install };
  let code: string | undefined;
  const component = kind === 'wasm' && options.backend === 'component';
  if (component) code = (await buildComponents(build)).components[handler]?.dir;
  else if (kind === 'wasm') code = handler.endsWith('.wasm') ? handler : (await buildHandlers(build)).handlers[handler];
  if (kind === 'native') code = (await buildNative(build)).bootstraps[handler]?.bootstrap;
  if (kind === 'node' && existsSync(join(NODE_BASELINES, `${handler}.mjs`))) code = NODE_BASELINES;
  if (code === undefined) {
    throw new WasiLambdaError('HANDLER_NOT_FOUND', `no ${kind} build of "${handler}"`);
  }
  // A `.wasm` path names its function after the file, as `invoke` without `--target` does.
  const base = handler.endsWith('.wasm') ? basename(handler, '.wasm') : handler;
  return {
    ...defaults,
    name: functionName(base, kind),
    kind,
    code,
    handler: kind === 'node' ? `${handler}.handler` : undefined,
    backend: component ? 'component' : undefined,
  };
}
