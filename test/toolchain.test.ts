import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileWorkspace } from '../src/build/build-handlers.js';
import { resolveWasmToolchain } from '../src/build/toolchain.js';
import { WasiLambdaError } from '../src/errors.js';
import { WasmHost } from '../src/host/wasm-host.js';
import { decode, handlerPath, testContext } from './support/handlers.js';

const quiet = { install: true, note: () => {} };

describe('toolchain detection', () => {
  it('rejects an unknown forced route with the accepted values', () => {
    const err = (() => {
      try {
        return resolveWasmToolchain({ ...quiet, prefer: 'zig' as 'auto' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(WasiLambdaError);
    expect((err as WasiLambdaError).message).toBe('WASI_LAMBDA_TOOLCHAIN is "zig"; use auto, rustup or debian');
  });

  // The route a fresh Debian machine takes when rustup cannot download targets; CI runs it
  // even where rustup's target is installed, so both routes stay working.
  it.runIf(existsSync('/etc/debian_version'))(
    "builds with Debian's rustc-web and -Zbuild-std, and the module answers like rustup's",
    async () => {
      const toolchain = resolveWasmToolchain({ ...quiet, prefer: 'debian' });
      expect(toolchain.kind).toBe('debian');
      expect(toolchain.args).toContain('-Zbuild-std=std,panic_abort');
      const artifacts = await compileWorkspace(resolve('wasm-handlers'), toolchain);
      // Every handler crate of the workspace, built by Debian's route too.
      expect(Object.keys(artifacts).sort()).toEqual(
        expect.arrayContaining(['async-guest', 'faults', 'fetch', 'hello', 'hello-async', 'http-api', 'workloads']),
      );

      const event = await readFile('test/fixtures/events/http-api/quote.json');
      const responses = await Promise.all(
        [artifacts['http-api'], handlerPath('http-api')].map(async (path) => {
          const host = await WasmHost.fromFile(path ?? '', { logSink: () => {} });
          const outcome = host.invoke(event, testContext());
          if (outcome.status !== 'ok') throw new Error(JSON.stringify(outcome));
          return decode(outcome.response);
        }),
      );
      expect(responses[0]).toBe(responses[1]);
    },
    // One LTO link per handler, the two with the AWS SDK taking minutes each on a small machine.
    1_500_000,
  );
});
