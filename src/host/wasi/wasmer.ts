import { webcrypto } from 'node:crypto';
import { init, MemFS, WASI } from '@wasmer/wasi';
import type { WasiBackend, WasiGrant, WasiSession } from './backend.js';

let ready: Promise<void> | undefined;

/**
 * `@wasmer/wasi`: an in-memory WASI with no access to the host filesystem at all, which is
 * why it is the default. Its stdout/stderr buffers are bypassed: the host intercepts
 * `fd_write` on fds 1 and 2 and streams lines itself.
 */
export async function createWasmerBackend(): Promise<WasiBackend> {
  // @wasmer/wasi draws random_get from globalThis.crypto, which Node.js 18 (Debian's arm64
  // build, used by the cross-architecture check) only has behind a flag.
  if (globalThis.crypto === undefined) {
    Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true });
  }
  ready ??= init();
  await ready;
  return {
    kind: 'wasmer',
    session(module: WebAssembly.Module, grant: WasiGrant): WasiSession {
      // @wasmer/wasi refuses a module that imports nothing from WASI ("The WASI version could
      // not be determined"); such a module needs no WASI state at all.
      if (!WebAssembly.Module.imports(module).some((i) => i.module === 'wasi_snapshot_preview1')) {
        return {
          imports: {},
          start(instance) {
            const initialize = instance.exports._initialize;
            if (typeof initialize === 'function') initialize();
          },
          dispose() {},
        };
      }
      let tmp: { fs: MemFS; preopens: Record<string, string> } | undefined;
      if (grant.tmp !== undefined) {
        const fs = new MemFS();
        fs.createDir('/tmp');
        tmp = { fs, preopens: { '/tmp': '/tmp' } };
      }
      const wasi = new WASI({ env: { ...grant.env }, args: [...grant.args], ...tmp });
      const imports = wasi.getImports(module) as WebAssembly.Imports;
      return {
        imports: imports.wasi_snapshot_preview1 ?? {},
        start(instance) {
          wasi.instantiate(instance, {});
          const initialize = instance.exports._initialize;
          if (typeof initialize === 'function') initialize();
        },
        dispose() {
          wasi.free();
        },
      };
    },
  };
}
