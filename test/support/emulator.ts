import { Emulator } from '../../src/emulator/emulator.js';
import { FUNCTION_DEFAULTS, type FunctionConfig } from '../../src/emulator/function-config.js';

export interface Running {
  emulator: Emulator;
  logs: string[];
  invoke(name: string, body: string | Uint8Array, headers?: Record<string, string>): Promise<InvokeReply>;
}

export interface InvokeReply {
  status: number;
  headers: Headers;
  body: string;
  ms: number;
}

/** A function config with Lambda's defaults. */
export function fn(config: Pick<FunctionConfig, 'name' | 'kind' | 'code'> & Partial<FunctionConfig>): FunctionConfig {
  return { ...FUNCTION_DEFAULTS, ...config };
}

/** Starts a real emulator on a loopback port; the caller stops it. */
export async function startEmulator(functions: FunctionConfig[]): Promise<Running> {
  const logs: string[] = [];
  const emulator = await Emulator.start({ functions, port: 0, logSink: (line) => logs.push(line) });
  return {
    emulator,
    logs,
    async invoke(name, body, headers = {}) {
      const started = performance.now();
      const response = await fetch(`${emulator.endpoint}/2015-03-31/functions/${name}/invocations`, {
        method: 'POST',
        body: typeof body === 'string' ? body : new Uint8Array(body),
        headers,
      });
      return {
        status: response.status,
        headers: response.headers,
        body: await response.text(),
        ms: performance.now() - started,
      };
    },
  };
}
