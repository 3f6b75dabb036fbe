import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, buildContext, buildHandlers, outputDir } from '../build/build-handlers.js';
import { freshStamp, writeStamp } from '../build/stamp.js';
import { WasiLambdaError } from '../errors.js';
import { componentize, readWorldWit, type World, worldOf } from './componentize.js';

/** One handler as a component, and as the JS that runs it. */
export interface ComponentArtifact {
  /** The component (`lambda-handler` world), for any component host. */
  component: string;
  /** `component.mjs` (jco transpile output bundled by esbuild) plus its core modules. */
  dir: string;
}

export interface ComponentBuildResult {
  components: Record<string, ComponentArtifact>;
  cached: boolean;
}

/** The world items of the contract in printed WIT: the `use` of its types and the exports. */
function worldItems(wit: string, pkg: string): string[] {
  return wit
    .replace(/\/\/.*$/gm, '')
    .split(';')
    .map((item) => item.replace(/\s+/g, ' ').trim())
    .filter((item) => item.startsWith(`use ${pkg}/`) || item.startsWith('export '))
    .sort();
}

/**
 * Checks that the component's own WIT (as `jco wit` prints it) exports exactly the world in
 * `wasm-handlers/wit/`: `handle` with the same signature, over the types of the same package
 * and version. (The records themselves were embedded from that file, and `jco new` checked
 * the core exports' signatures against them.)
 */
export async function validateComponent(component: Uint8Array, name: World = 'lambda-handler'): Promise<void> {
  const { componentWit } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  const source = await readWorldWit();
  const packageMatch = /package ([\w-]+:[\w-]+)@([\w.-]+);/.exec(source);
  const world = new RegExp(`world ${name} \\{([\\s\\S]*?)\\n\\}`).exec(source);
  if (!packageMatch || !world)
    throw new WasiLambdaError('INVALID_CONFIG', `handler.wit has no package or no ${name} world`);
  const [, pkg, version] = packageMatch;
  const expected = [
    `use ${pkg}/types@${version}.{context, handler-error}`,
    ...worldItems(world[1] ?? '', `${pkg}`).filter((item) => item.startsWith('export ')),
  ].sort();
  const printed = worldItems(await componentWit(component), `${pkg}`);
  if (printed.join('\n') !== expected.join('\n')) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `the component does not match the ${name} world:\n  expected: ${expected.join('\n            ')}\n  printed:  ${printed.join('\n            ')}`,
    );
  }
}

async function transpileTo(name: string, component: Uint8Array, dir: string): Promise<void> {
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  const { build } = await import('esbuild');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // `sync` instantiation: the host supplies every import (its least-authority WASI) and can
  // re-instantiate synchronously after a trap.
  const { files } = await transpileBytes(component, { name, instantiation: 'sync', emitTypescriptDeclarations: false });
  for (const [path, bytes] of Object.entries(files)) {
    const file = path.split('/').at(-1) ?? path;
    if (file.endsWith('.wasm') || file === `${name}.js`) writeFileSync(join(dir, file), bytes);
  }
  await build({
    entryPoints: [join(dir, `${name}.js`)],
    outfile: join(dir, 'component.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    minify: true,
    logLevel: 'warning',
  });
  rmSync(join(dir, `${name}.js`));
  const cores = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
  writeFileSync(join(dir, 'component.json'), `${JSON.stringify({ name, cores }, null, 2)}\n`);
}

/**
 * Builds every handler as a WebAssembly component (`jco new` with the preview1 reactor
 * adapter), validates it against the WIT world, and transpiles it for the `component`
 * backend. Unchanged sources are not rebuilt.
 *
 * ```ts
 * const { components } = await buildComponents();
 * const host = await ComponentHost.fromDir(components.hello!.dir);
 * ```
 */
export async function buildComponents(options: BuildOptions = {}): Promise<ComponentBuildResult> {
  const { workspace, sources } = buildContext(options);
  const out = join(outputDir(workspace), 'component');
  const stampPath = join(out, 'build-stamp.json');
  const files = (outputs: Record<string, ComponentArtifact>) =>
    Object.values(outputs).flatMap((a) => [a.component, join(a.dir, 'component.mjs')]);
  const stamp = options.force ? undefined : freshStamp(stampPath, sources, files);
  if (stamp) return { components: stamp.outputs, cached: true };

  const { handlers, toolchain } = await buildHandlers(options);
  const components: Record<string, ComponentArtifact> = {};
  for (const [name, core] of Object.entries(handlers)) {
    const bytes = readFileSync(core);
    const component = await componentize(bytes);
    await validateComponent(component, await worldOf(bytes));
    mkdirSync(out, { recursive: true });
    const path = join(out, `${name}.component.wasm`);
    writeFileSync(path, component);
    const dir = join(out, name);
    await transpileTo(name, component, dir);
    components[name] = { component: path, dir };
  }
  writeStamp(stampPath, { sources, toolchain, outputs: components });
  return { components, cached: false };
}
