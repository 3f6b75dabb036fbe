import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { buildHandlers } from '../../src/build/build-handlers.js';
import { buildNative } from '../../src/build/build-native.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Package name → built `.wasm`, from the real Rust sources of `wasm-handlers/`. */
    handlers: Record<string, string>;
    /** Package name → static musl `bootstrap` built from the same sources. */
    bootstraps: Record<string, string>;
  }
}

/** Builds every handler crate (wasm and native) and the JS bundles before any test runs. */
export default async function setup(project: TestProject): Promise<void> {
  const note = (message: string) => process.stderr.write(`[setup] ${message}\n`);
  const { handlers } = await buildHandlers({ note });
  const { bootstraps } = await buildNative({ note });
  execFileSync(process.execPath, ['scripts/build-js.mjs'], { stdio: 'inherit' });
  project.provide('handlers', handlers);
  project.provide('bootstraps', Object.fromEntries(Object.entries(bootstraps).map(([name, a]) => [name, a.bootstrap])));
}
