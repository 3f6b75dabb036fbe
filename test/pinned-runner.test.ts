import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { PinnedRunner } from '../src/bench/pinned-runner.js';
import { WasiLambdaError } from '../src/errors.js';
import { encode, handlerPath } from './support/handlers.js';

/** The first CPU this process may use, if `taskset` can pin to it here. */
function pinnableCpu(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const first = /^Cpus_allowed_list:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (first === undefined) return undefined;
  return spawnSync('taskset', ['-c', first, 'true']).status === 0 ? Number(first) : undefined;
}

describe("the bench's in-process measurements run in a child process pinned to one CPU", () => {
  const runner = PinnedRunner.open();
  const cpu = pinnableCpu();

  it.runIf(cpu !== undefined)('pins what it starts to the first CPU the bench may use, and says which', async () => {
    expect(runner.cpu).toBe(cpu);
    const status = await runner.exec('cat', ['/proc/self/status']);
    expect(status).toMatch(new RegExp(`^Cpus_allowed_list:\\s*${cpu}$`, 'm'));
    expect(runner.note).toContain(`CPU ${cpu}`);
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

  it("reports a failed measurement with the child's error code and message", async () => {
    // A module without the world's exports: the host in the child refuses it, typed.
    const path = join(mkdtempSync(join(tmpdir(), 'wasi-lambda-pinned-')), 'empty.wasm');
    writeFileSync(path, await parse('(module (memory (export "memory") 1))'));
    const err = await runner.run({ kind: 'wasm', path, event: '', samples: 1, warmup: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasiLambdaError);
    expect((err as WasiLambdaError).code).toBe('CONTRACT_MISSING');
    expect((err as WasiLambdaError).message).toMatch(/does not export `handle`/);
  });
});
