import { existsSync } from 'node:fs';
import { functionsFromConfig } from '../../build/function-config-file.js';
import { localFunctions } from '../../build/local-functions.js';
import { Emulator } from '../../emulator/emulator.js';
import { FUNCTION_KINDS, type FunctionKind } from '../../emulator/function-config.js';
import { parseLogFormat } from '../../logging/log-format.js';

export interface ServeCommandOptions {
  workspace: string;
  host: string;
  port: number;
  memory: number;
  timeout: number;
  concurrency: number;
  logFormat?: string;
  kinds?: string[];
  install: boolean;
  /** A `wasi-lambda.json` with the functions; default `./wasi-lambda.json` if present. */
  config?: string;
}

export const DEFAULT_CONFIG = 'wasi-lambda.json';

/**
 * `wasi-lambda serve`: a local Lambda (Invoke API + Runtime API) until interrupted, serving
 * the functions of `wasi-lambda.json`, or else every handler as wasm and native and the
 * Node.js baselines.
 */
export async function serveCommand(options: ServeCommandOptions): Promise<number> {
  const kinds = (options.kinds ?? [...FUNCTION_KINDS]) as FunctionKind[];
  const config = options.config ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  const functions = config
    ? await functionsFromConfig(config, { workspace: options.workspace, install: options.install })
    : await localFunctions({
        workspace: options.workspace,
        install: options.install,
        kinds,
        overrides: {
          memoryMb: options.memory,
          timeoutSeconds: options.timeout,
          maxConcurrency: options.concurrency,
          logFormat: parseLogFormat(options.logFormat, '--log-format'),
        },
      });
  const emulator = await Emulator.start({ functions, host: options.host, port: options.port });
  process.stderr.write(`wasi-lambda: emulating Lambda at ${emulator.endpoint}\n`);
  for (const fn of functions) {
    process.stderr.write(`  ${fn.name.padEnd(24)} ${fn.kind.padEnd(7)} ${fn.code}\n`);
  }
  process.stderr.write(
    `try: curl -s -X POST ${emulator.endpoint}/2015-03-31/functions/${functions[0]?.name ?? 'hello'}/invocations -d '{"name":"Ada"}'\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.stop();
  return 0;
}
