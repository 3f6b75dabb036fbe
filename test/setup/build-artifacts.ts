import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { buildHandlers } from '../../src/build/build-handlers.js';
import { buildNative } from '../../src/build/build-native.js';
import { buildComponents } from '../../src/component/build-components.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Package name → built `.wasm`, from the real Rust sources of `wasm-handlers/`. */
    handlers: Record<string, string>;
    /** Package name → static musl `bootstrap` built from the same sources. */
    bootstraps: Record<string, string>;
    /** Package name → directory of the transpiled component (`component.mjs` + core modules). */
    components: Record<string, string>;
  }
}

/** Builds every handler crate (wasm and native), the JS bundles and the SDK package before any test runs. */
export default async function setup(project: TestProject): Promise<void> {
  const note = (message: string) => process.stderr.write(`[setup] ${message}\n`);
  const { handlers } = await buildHandlers({ note });
  const { bootstraps } = await buildNative({ note });
  const { components } = await buildComponents({ note });
  execFileSync(process.execPath, ['scripts/build-js.mjs'], { stdio: 'inherit' });
  // The SDK crates as the npm package ships them, for the projects the tests make with
  // `wasi-lambda new`: packed on every run, since a checkout's `sdk/` outlives its sources.
  execFileSync(process.execPath, ['scripts/pack-sdk.mjs'], { stdio: 'inherit' });
  project.provide('handlers', handlers);
  project.provide('components', Object.fromEntries(Object.entries(components).map(([name, a]) => [name, a.dir])));
  project.provide('bootstraps', Object.fromEntries(Object.entries(bootstraps).map(([name, a]) => [name, a.bootstrap])));
}
