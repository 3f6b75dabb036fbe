import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What a build produced from which sources with which compiler. */
export interface Stamp<Outputs> {
  sources: string;
  toolchain: string;
  outputs: Outputs;
}

/** The stamp, if it records these sources and every file it lists still exists. */
export function freshStamp<Outputs>(
  path: string,
  sources: string,
  files: (outputs: Outputs) => string[],
): Stamp<Outputs> | undefined {
  let stamp: Stamp<Outputs>;
  try {
    stamp = JSON.parse(readFileSync(path, 'utf8')) as Stamp<Outputs>;
  } catch {
    return undefined;
  }
  if (stamp.sources !== sources || stamp.outputs === undefined) return undefined;
  return files(stamp.outputs).every((file) => existsSync(file)) ? stamp : undefined;
}

export function writeStamp<Outputs>(path: string, stamp: Stamp<Outputs>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(stamp, null, 2)}\n`);
}
