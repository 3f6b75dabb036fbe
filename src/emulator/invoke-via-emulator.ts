import { Emulator } from './emulator.js';
import type { FunctionConfig } from './function-config.js';

export interface EmulatedInvokeResult {
  status: number;
  body: Buffer;
  functionError: string | undefined;
}

/**
 * Starts an emulator with one function, invokes it once over the real Invoke API, and stops.
 * Logs and START/END/REPORT go to `logSink`.
 */
export async function invokeViaEmulator(
  fn: FunctionConfig,
  event: Uint8Array,
  logSink: (line: string) => void,
): Promise<EmulatedInvokeResult> {
  const emulator = await Emulator.start({ functions: [fn], logSink });
  try {
    const response = await fetch(`${emulator.endpoint}/2015-03-31/functions/${fn.name}/invocations`, {
      method: 'POST',
      body: new Uint8Array(event),
    });
    return {
      status: response.status,
      body: Buffer.from(await response.arrayBuffer()),
      functionError: response.headers.get('x-amz-function-error') ?? undefined,
    };
  } finally {
    await emulator.stop();
  }
}
