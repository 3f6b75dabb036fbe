import { buildHandlers } from '../../build/build-handlers.js';

export interface BuildCommandOptions {
  workspace: string;
  force?: boolean;
  install: boolean;
}

/** `wasi-lambda build`: compiles every handler crate and prints `name<TAB>path` lines. */
export async function buildCommand(options: BuildCommandOptions): Promise<number> {
  const result = await buildHandlers({
    workspace: options.workspace,
    force: options.force ?? false,
    install: options.install,
  });
  const state = result.cached ? 'up to date' : 'built';
  process.stderr.write(`wasi-lambda: ${state} (${result.toolchain})\n`);
  for (const [name, path] of Object.entries(result.handlers).sort()) {
    process.stdout.write(`${name}\t${path}\n`);
  }
  return 0;
}
