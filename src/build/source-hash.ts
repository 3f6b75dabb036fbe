import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SKIPPED = new Set(['target', '.git', 'node_modules']);
/** At a project's root (`wasi-lambda new`): deployment zips and samples are not sources. */
const ROOT_SKIPPED = new Set(['build', '.serverless', 'events']);

/**
 * A digest of every source file in a Cargo workspace (build outputs excluded), so an
 * unchanged workspace is recognised without asking cargo.
 */
export function hashSources(root: string): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIPPED.has(entry.name) || (dir === root && ROOT_SKIPPED.has(entry.name))) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  walk(root);
  files.sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(root, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}
