import { openSync } from 'node:fs';
import type { WasiBackend, WasiGrant, WasiSession } from './backend.js';

let devNull: number | undefined;

/**
 * `node:wasi` (uvwasi). Node documents it as experimental and not a sandbox for untrusted
 * code, so it is opt-in. Its stdio accepts file descriptors only: all three point at
 * `/dev/null`, and the host intercepts `fd_write` on fds 1 and 2 before they get there.
 */
export async function createNodeBackend(): Promise<WasiBackend> {
  // Imported lazily: loading node:wasi prints an ExperimentalWarning on Node 20.
  const { WASI } = await import('node:wasi');
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
