import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { toError, WasiLambdaError } from '../../errors.js';
import { GuestExit } from '../../host/outcome.js';
import { writeAllSync } from '../../logging/fd-sink.js';
import { type Directory, MemoryFilesystem, Preview1, WasiError } from '../../wasi/index.js';
import { parseKeyValues } from '../key-values.js';

export interface RunCommandOptions {
  dir: string[];
  env: string[];
}

/** Exit status for a guest that trapped: 128 + SIGABRT, as wasmtime reports it. */
const TRAP_STATUS = 134;

/**
 * `HOST::GUEST` (or `DIR`, the same path in both) → an in-memory copy of HOST preopened at
 * GUEST.
 *
 * Why a copy that is never written back: the guest gets the same sandbox it gets on Lambda
 * (a filesystem in memory with a quota, no host path, no host fd), and the host directory
 * is only *read*, once, before the guest starts. Writing back would hand a hostile command
 * the host's filesystem after all — after exit, through our own code, where a symlink it
 * planted or a file it replaced is followed by a process with the user's rights — and it
 * would make `run` differ from Lambda, where nothing a function writes outlives it. A
 * command's results are what it prints.
 */
function preopens(dirs: readonly string[]): Record<string, Directory> {
  const map: Record<string, Directory> = {};
  for (const spec of dirs) {
    const [host = '', guest = host] = spec.split('::');
    if (host === '') throw new WasiLambdaError('INVALID_INPUT', `--dir expects HOST::GUEST or DIR, got "${spec}"`);
    const fs = new MemoryFilesystem();
    copyIn(resolve(host), fs.root, spec);
    map[guest] = fs.root;
  }
  return map;
}

/**
 * Copies a host tree into memory without following a single symbolic link (links are
 * copied as links; the guest resolves them inside its preopen or not at all). Sockets,
 * FIFOs and devices are left out: the guest gets bytes, never a host object.
 */
function copyIn(hostDir: string, into: Directory, spec: string): void {
  let names: string[];
  try {
    names = readdirSync(hostDir);
  } catch (err) {
    throw new WasiLambdaError('INVALID_INPUT', `--dir ${spec}: cannot read ${hostDir}: ${toError(err).message}`);
  }
  try {
    for (const name of names) {
      const path = join(hostDir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) copyIn(path, into.makeDirectory(name), spec);
      else if (stat.isFile()) {
        // Checked before reading: a host file larger than the quota is never loaded.
        into.fs.checkRoom(stat.size);
        into.makeFile(name).write(0, readFileSync(path));
      } else if (stat.isSymbolicLink()) into.makeSymlink(name, readlinkSync(path));
    }
  } catch (err) {
    if (err instanceof WasiLambdaError) throw err;
    if (err instanceof WasiError) {
      throw new WasiLambdaError(
        'INVALID_INPUT',
        `--dir ${spec}: ${hostDir} does not fit the in-memory filesystem (${into.fs.limits.maxBytes / 2 ** 20} MB, ${into.fs.limits.maxFiles} files); map a smaller directory`,
      );
    }
    throw new WasiLambdaError('INVALID_INPUT', `--dir ${spec}: cannot copy ${hostDir}: ${toError(err).message}`);
  }
}

/**
 * `wasi-lambda run FILE.wasm [--dir HOST::GUEST] [--env K=V] -- ARGS`: runs a WASI preview1
 * *command* (`_start`) on wasi-lambda's own WASI layer, with empty stdin, the process's
 * stdout and stderr, only the given directories (copied into memory) and variables, and
 * exits with its status — the adapter interface of WebAssembly/wasi-testsuite.
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
  if (!WebAssembly.Module.exports(module).some((e) => e.name === '_start' && e.kind === 'function')) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `${file} is not a WASI command (no _start export); handlers run with invoke`,
    );
  }
  const wasi = new Preview1({
    args: [file, ...args],
    env: parseKeyValues(options.env),
    preopens: preopens(options.dir),
    output: (stream, chunk) => writeAllSync(stream === 'stdout' ? 1 : 2, chunk),
  });
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.imports });
  } catch (err) {
    throw new WasiLambdaError('MODULE_INVALID', `cannot instantiate ${file}: ${toError(err).message}`);
  }
  const { memory, _start } = instance.exports;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new WasiLambdaError('CONTRACT_MISSING', `${file} exports no memory named "memory"`);
  }
  wasi.bind(memory);
  try {
    (_start as () => void)();
    return 0;
  } catch (err) {
    if (err instanceof GuestExit) return err.exitCode;
    process.stderr.write(`wasi-lambda: the guest trapped: ${toError(err).message}\n`);
    return TRAP_STATUS;
  } finally {
    wasi.dispose();
  }
}
