import { openSync } from 'node:fs';
import type { WasiBackend, WasiGrant, WasiSession } from './backend.js';

let devNull: number | undefined;

/**
 * Loading node:wasi emits "WASI is an experimental feature" as a process warning, which on
 * Lambda would land in every cold start's log. Only that warning is held back.
 */
export async function importNodeWasi(): Promise<typeof import('node:wasi')> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).startsWith('WASI is an experimental feature')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await import('node:wasi');
  } finally {
    process.emitWarning = emitWarning;
  }
}

/**
 * `node:wasi` (uvwasi). Node documents it as experimental and not a sandbox for untrusted
 * code, so it is opt-in. Its stdio accepts file descriptors only: all three point at
 * `/dev/null`, and the host intercepts `fd_write` on fds 1 and 2 before they get there.
 */
export async function createNodeBackend(): Promise<WasiBackend> {
  const { WASI } = await importNodeWasi();
  devNull ??= openSync('/dev/null', 'r+');
  const fd = devNull;
  return {
    kind: 'node',
    session(_module: WebAssembly.Module, grant: WasiGrant): WasiSession {
      const wasi = new WASI({
        version: 'preview1',
        env: { ...grant.env },
        args: [...grant.args],
        stdin: fd,
        stdout: fd,
        stderr: fd,
        returnOnExit: true,
        preopens: grant.tmp === undefined ? {} : { '/tmp': grant.tmp },
      });
      return {
        imports: wasi.wasiImport as WebAssembly.ModuleImports,
        start(instance) {
          wasi.initialize(instance);
        },
        dispose() {},
      };
    },
  };
}
