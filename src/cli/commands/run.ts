import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { toError, WasiLambdaError } from '../../errors.js';
import { importNodeWasi } from '../../host/wasi/node.js';
import { parseKeyValues } from '../key-values.js';

export interface RunCommandOptions {
  dir: string[];
  env: string[];
}

/** `HOST::GUEST` (or `DIR`, the same path in both) → node:wasi preopens. */
function preopens(dirs: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const spec of dirs) {
    const [host = '', guest = host] = spec.split('::');
    if (host === '') throw new WasiLambdaError('INVALID_INPUT', `--dir expects HOST::GUEST or DIR, got "${spec}"`);
    map[guest] = resolve(host);
  }
  return map;
}

/**
 * `wasi-lambda run FILE.wasm [--dir HOST::GUEST] [--env K=V] -- ARGS`: runs a WASI preview1
 * *command* (`_start`) with the process's stdio, only the given directories and variables,
 * and exits with its status — the adapter interface of WebAssembly/wasi-testsuite.
 */
export async function runCommand(file: string, args: string[], options: RunCommandOptions): Promise<number> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new WasiLambdaError('HANDLER_NOT_FOUND', `cannot read ${file}: ${toError(err).message}`);
  }
  const module = await WebAssembly.compile(bytes).catch((err: unknown) => {
    throw new WasiLambdaError('MODULE_INVALID', `not a valid WebAssembly module: ${toError(err).message}`);
  });
  if (!WebAssembly.Module.exports(module).some((e) => e.name === '_start')) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `${file} is not a WASI command (no _start export); handlers run with invoke`,
    );
  }
  const { WASI } = await importNodeWasi();
  const wasi = new WASI({
    version: 'preview1',
    args: [file, ...args],
    env: parseKeyValues(options.env),
    preopens: preopens(options.dir),
    returnOnExit: true,
  });
  const instance = new WebAssembly.Instance(module, {
    wasi_snapshot_preview1: wasi.wasiImport as WebAssembly.ModuleImports,
  });
  return wasi.start(instance);
}
