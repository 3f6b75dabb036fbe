import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmHost } from '../src/host/wasm-host.js';
import { decode, encode, handlerPath, testContext } from './support/handlers.js';

/** Bounded in CI; `npm run fuzz` sets FUZZ_RUNS for a long run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

const TEXT_RECORD = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t([^\t]+)\t(INFO|ERROR)\t([^\n]*)\n$/;

describe('property: the event path', () => {
  let host: WasmHost;
  beforeAll(async () => {
    host = await WasmHost.fromFile(handlerPath('faults'), { logSink: () => {} });
  });

  it('echoes any JSON value as an equal value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const outcome = host.invoke(encode(JSON.stringify({ action: 'echo', payload: value })), testContext());
        expect(outcome.status).toBe('ok');
        if (outcome.status === 'ok')
          expect(JSON.parse(decode(outcome.response))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: RUNS },
    );
  });

  it('answers any bytes at all with a response or a typed error, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const outcome = host.invoke(bytes, testContext());
        if (outcome.status === 'error') {
          expect(outcome.error.errorType).toMatch(/^[\w.]+$/);
          expect(typeof outcome.error.errorMessage).toBe('string');
        }
      }),
      { numRuns: RUNS },
    );
    // Whatever came before, the same instance still serves.
    expect(host.instanceCount).toBe(1);
  });
});

describe('property: the log path', () => {
  it('turns any guest output into well-formed records with the request id and no control characters', async () => {
    const lines: string[] = [];
    const host = await WasmHost.fromFile(handlerPath('faults'), { logSink: (l) => lines.push(l) });
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 80 }), { maxLength: 8 }),
        fc.uuid(),
        (out, requestId) => {
          lines.length = 0;
          host.invoke(encode(JSON.stringify({ action: 'log', stdout: out, stderr: [] })), testContext({ requestId }));
          // Each println! is one or more lines (a string may itself contain newlines).
          expect(lines.length).toBe(out.reduce((n, s) => n + s.split('\n').length, 0));
          for (const line of lines) {
            const match = TEXT_RECORD.exec(line);
            expect(match?.[1]).toBe(requestId);
            // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
            expect(match?.[3]).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f]/);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
