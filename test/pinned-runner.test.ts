import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PinnedRunner } from '../src/bench/pinned-runner.js';
import { WasiLambdaError } from '../src/errors.js';
import { encode, handlerPath } from './support/handlers.js';

const hasTaskset = process.platform === 'linux' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

describe("the bench's in-process measurements run in a child process pinned to one CPU", () => {
  const runner = PinnedRunner.open();

  it.runIf(hasTaskset)('pins what it starts to one CPU, and says which', async () => {
    expect(runner.cpu).toBeTypeOf('number');
    const status = await runner.exec('cat', ['/proc/self/status']);
    expect(status).toMatch(new RegExp(`^Cpus_allowed_list:\\s*${runner.cpu}$`, 'm'));
    expect(runner.note).toContain(`pinned to CPU ${runner.cpu}`);
  });

  it('runs a wasm measurement in the child and answers its figures and the response', async () => {
    const run = await runner.run({
      kind: 'wasm',
      path: handlerPath('hello'),
      event: Buffer.from(encode('{"name":"Ada"}')).toString('base64'),
      samples: 5,
      warmup: 1,
    });
    expect(run.ms).toHaveLength(5);
    expect(JSON.parse(run.response)).toMatchObject({ message: expect.stringContaining('Ada') });
  });

  it("reports a failed measurement as the child's typed error", async () => {
    const err = await runner
      .run({ kind: 'wasm', path: '/nonexistent.wasm', event: '', samples: 1, warmup: 0 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasiLambdaError);
    expect((err as WasiLambdaError).message).toMatch(/nonexistent\.wasm/);
  });
});
