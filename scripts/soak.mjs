// The long soak: 30,000 mixed invocations through the emulator at concurrency 1 and 8.
// Run with `npm run soak` (builds first); prints one JSON summary per concurrency.
import { buildHandlers, FUNCTION_DEFAULTS, soak } from '../dist/index.js';

const invocations = Number(process.env.SOAK_INVOCATIONS ?? 30_000);
const { handlers } = await buildHandlers({});
const fn = { ...FUNCTION_DEFAULTS, name: 'faults', kind: 'wasm', code: handlers.faults, timeoutSeconds: 10 };
let failed = false;
for (const concurrency of [1, 8]) {
  const result = await soak(fn, invocations, concurrency);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  const { start, end } = result;
  if (
    end.openFds > start.openFds + 8 ||
    end.environments > concurrency ||
    end.heapUsedMb > start.heapUsedMb * 1.5 + 10
  ) {
    process.stderr.write(`soak at concurrency ${concurrency}: resources grew (see above)\n`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
