import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the handler crates (real wasm from Rust source) and the JS bundles once.
    globalSetup: ['test/setup/build-artifacts.ts'],
    // Building wasm on a fresh machine and spawning processes take time; keep CI patient.
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
