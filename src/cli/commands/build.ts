import { buildHandlers } from '../../build/build-handlers.js';
import { buildNative } from '../../build/build-native.js';
import { buildComponents } from '../../component/build-components.js';

export interface BuildCommandOptions {
  workspace: string;
  force?: boolean;
  install: boolean;
  native?: boolean;
  component?: boolean;
}

/**
 * `wasi-lambda build`: compiles every handler crate to wasm (or, with `--native`, to static
 * musl `bootstrap` executables and zips; with `--component`, to components plus their
 * transpiled JS) and prints `name<TAB>path` lines.
 */
export async function buildCommand(options: BuildCommandOptions): Promise<number> {
  const common = { workspace: options.workspace, force: options.force ?? false, install: options.install };
  if (options.native) {
    const result = await buildNative(common);
    process.stderr.write(`wasi-lambda: ${result.cached ? 'up to date' : 'built'} (${result.toolchain})\n`);
    for (const [name, artifact] of Object.entries(result.bootstraps).sort()) {
      process.stdout.write(`${name}\t${artifact.bootstrap}\t${artifact.zip}\n`);
    }
    return 0;
  }
  if (options.component) {
    const result = await buildComponents(common);
    process.stderr.write(
      `wasi-lambda: ${result.cached ? 'up to date' : 'built'} (components validated against the WIT world)\n`,
    );
    for (const [name, artifact] of Object.entries(result.components).sort()) {
      process.stdout.write(`${name}\t${artifact.component}\t${artifact.dir}\n`);
    }
    return 0;
  }
  const result = await buildHandlers(common);
  process.stderr.write(`wasi-lambda: ${result.cached ? 'up to date' : 'built'} (${result.toolchain})\n`);
  for (const [name, path] of Object.entries(result.handlers).sort()) {
    process.stdout.write(`${name}\t${path}\n`);
  }
  return 0;
}
