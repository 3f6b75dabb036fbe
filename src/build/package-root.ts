import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WasiLambdaError } from '../errors.js';

/**
 * The directory of the wasi-lambda package this code runs from: the repository checkout, or
 * `node_modules/wasi-lambda` in a project. Shipped files (`dist/`, `templates/`, `sdk/`, the
 * data examples) are found from here, whatever the current directory.
 *
 * ```ts
 * const templates = join(packageRoot(), 'templates');
 * ```
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'wasi-lambda'
    ) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new WasiLambdaError('INVALID_CONFIG', `no wasi-lambda package.json above ${from}`);
    dir = parent;
  }
}

/** A file shipped in the package, or a clear error naming the step that makes it. */
export function packageFile(relative: string, makeWith: string): string {
  const path = join(packageRoot(), relative);
  if (!existsSync(path)) throw new WasiLambdaError('INVALID_CONFIG', `${path} is missing; run \`${makeWith}\` first`);
  return path;
}
