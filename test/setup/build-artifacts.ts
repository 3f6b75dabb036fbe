import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { buildHandlers } from '../../src/build/build-handlers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Package name → built `.wasm`, from the real Rust sources of `wasm-handlers/`. */
    handlers: Record<string, string>;
  }
}

/** Builds every handler crate and the JS bundles before any test runs. */
export default async function setup(project: TestProject): Promise<void> {
  const { handlers } = await buildHandlers({ note: (message) => process.stderr.write(`[setup] ${message}\n`) });
  execFileSync(process.execPath, ['scripts/build-js.mjs'], { stdio: 'inherit' });
  project.provide('handlers', handlers);
}
