import { performance } from 'node:perf_hooks';
import { buildHandlers } from '../../build/build-handlers.js';
import { localFunctions } from '../../build/local-functions.js';
import { SourceWatcher } from '../../build/source-watcher.js';
import { Emulator } from '../../emulator/emulator.js';
import { WasiLambdaError } from '../../errors.js';
import { parseLogFormat } from '../../logging/log-format.js';

export interface WatchCommandOptions {
  workspace: string;
  host: string;
  port: number;
  memory: number;
  timeout: number;
  logFormat?: string;
  install: boolean;
}

/**
 * `wasi-lambda watch`: serves the workspace's handlers as wasm on the emulator and, on every
 * source change, rebuilds and swaps each function's module without restarting the emulator:
 * the next invocation is a cold start of the new code. A failed build is shown and the
 * previous version keeps serving.
 */
export async function watchCommand(options: WatchCommandOptions): Promise<number> {
  const functions = await localFunctions({
    workspace: options.workspace,
    install: options.install,
    kinds: ['wasm'],
    overrides: {
      memoryMb: options.memory,
      timeoutSeconds: options.timeout,
      logFormat: parseLogFormat(options.logFormat, '--log-format'),
    },
  });
  const emulator = await Emulator.start({ functions, host: options.host, port: options.port });
  const note = (line: string) => process.stderr.write(`wasi-lambda: ${line}\n`);
  note(`emulating Lambda at ${emulator.endpoint}`);
  for (const fn of functions) process.stderr.write(`  ${fn.name.padEnd(24)} ${fn.code}\n`);
  const watcher = await SourceWatcher.start({
    root: options.workspace,
    async rebuild(changed) {
      note(`changed: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''}; rebuilding`);
      const started = performance.now();
      try {
        const { handlers, cached } = await buildHandlers({ workspace: options.workspace, install: options.install });
        if (cached) {
          note('sources unchanged; still serving the same build');
          return;
        }
        for (const [name, code] of Object.entries(handlers)) {
          const pool = emulator.pool(name);
          // A handler crate added while watching is served after a restart.
          if (pool) pool.swap({ ...pool.config, code });
        }
        note(
          `rebuilt in ${((performance.now() - started) / 1000).toFixed(1)} s; the next invocation runs the new code`,
        );
      } catch (err) {
        const message = err instanceof WasiLambdaError ? err.message : String(err);
        note(`build failed, still serving the previous version: ${message}`);
      }
    },
  });
  note('watching for changes (Ctrl-C to stop)');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await watcher.close();
  await emulator.stop();
  return 0;
}
