import { readdirSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** Folders and files of the tooling (build, emulator, bench, CLI, local invoke): never on Lambda. */
const TOOLING = [/^src\/(build|bench|cli|emulator|local)\//, /^src\/component\/(build-components|componentize)\.ts$/];
/** Packages only the tooling may load. */
const TOOLING_PACKAGES =
  /node_modules\/(@bytecodealliance\/jco|@bytecodealliance\/jco-transpile|esbuild|binaryen|@aws-sdk\/client-lambda|commander|chokidar)\//;

/** Every source file a Lambda entry pulls in, as esbuild resolves it for the shipped bundle. */
async function inputsOf(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

describe('the seam between what ships to Lambda and what develops it', () => {
  it.each([
    'src/lambda/handler.ts',
    'src/runtime/wasm-runtime.ts',
    'src/host/guest-worker.ts',
    // `wasi-lambda/runtime`, the subpath export for a custom Lambda entry.
    'src/runtime-exports.ts',
  ])('%s imports nothing from the tooling', async (entry) => {
    const inputs = await inputsOf(entry);
    expect(inputs.length).toBeGreaterThan(5);
    expect(inputs.filter((file) => TOOLING.some((re) => re.test(file)))).toEqual([]);
    expect(inputs.filter((file) => TOOLING_PACKAGES.test(file))).toEqual([]);
  });

  it('the emulator runs built artifacts and never the build (no cargo, no toolchain)', async () => {
    const inputs = new Set<string>();
    for (const entry of readdirSync('src/emulator').filter((f) => f.endsWith('.ts'))) {
      for (const input of await inputsOf(`src/emulator/${entry}`)) inputs.add(input);
    }
    expect([...inputs].filter((file) => /^src\/(build|bench|cli|local)\//.test(file))).toEqual([]);
    expect([...inputs].filter((file) => TOOLING_PACKAGES.test(file))).toEqual([]);
  });

  it('package.json exports the runtime side as its own subpath', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, string> };
    expect(manifest.exports['./runtime']).toBe('./dist/runtime/index.mjs');
  });
});
