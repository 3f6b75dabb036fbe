import { handlerPackages } from './cargo-metadata.js';

/**
 * The handler a command uses without `--handler`: the workspace's only handler crate (a
 * project made by `wasi-lambda new`), else `hello` (this repository's examples).
 */
export function defaultHandler(workspace: string): string {
  try {
    const handlers = handlerPackages(workspace, { cargo: 'cargo', env: process.env });
    if (handlers.length === 1 && handlers[0] !== undefined) return handlers[0].name;
  } catch {
    // No cargo on PATH or an unreadable manifest: the build reports it with its own words.
  }
  return 'hello';
}
