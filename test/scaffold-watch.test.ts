import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceWatcher } from '../src/build/source-watcher.js';
import { fn, type Running, startEmulator } from './support/emulator.js';
import { handlerPath } from './support/handlers.js';

/** Variables for the guest, granted as a function's configuration grants them on Lambda. */
function grant(variables: Record<string, string>): Record<string, string> {
  return { ...variables, WASI_LAMBDA_ENV: Object.keys(variables).join(',') };
}

let running: Running | undefined;
let watcher: SourceWatcher | undefined;
afterEach(async () => {
  await watcher?.close();
  await running?.emulator.stop();
  watcher = undefined;
  running = undefined;
});

describe('watch: swapping a function without restarting the emulator', () => {
  it('the next invocation runs the new module; the old environment is retired', async () => {
    running = await startEmulator([fn({ name: 'greeter', kind: 'wasm', code: handlerPath('hello') })]);
    const before = await running.invoke('greeter', '{"name":"Ada"}');
    expect(JSON.parse(before.body)).toEqual({ message: 'Hello, Ada!' });
    const pool = running.emulator.pool('greeter');
    expect(pool?.environmentCount).toBe(1);

    // hello-async greets with $GREETING: a different module, and a visibly different answer.
    pool?.swap({ ...pool.config, code: handlerPath('hello-async'), environment: grant({ GREETING: 'Howdy' }) });
    expect(pool?.environmentCount).toBe(0);
    const after = await running.invoke('greeter', '{"name":"Ada"}');
    expect(JSON.parse(after.body)).toEqual({ message: 'Howdy, Ada!' });
    expect(running.logs.join('')).toMatch(/Init Duration/);
  });

  it('an invocation running during the swap finishes on the old code', async () => {
    running = await startEmulator([fn({ name: 'greeter', kind: 'wasm', code: handlerPath('hello-async') })]);
    const pool = running.emulator.pool('greeter');
    await running.invoke('greeter', '{}');
    // DELAY_MS keeps the next invocation busy while the swap happens.
    pool?.swap({ ...pool.config, environment: grant({ DELAY_MS: '500', GREETING: 'Old' }) });
    const slow = running.invoke('greeter', '{"name":"Ada"}');
    await sleep(200);
    pool?.swap({ ...pool.config, environment: grant({ GREETING: 'New' }) });
    expect(JSON.parse((await slow).body)).toEqual({ message: 'Old, Ada!' });
    expect(JSON.parse((await running.invoke('greeter', '{"name":"Ada"}')).body)).toEqual({ message: 'New, Ada!' });
  });
});

describe('SourceWatcher', () => {
  it('one rebuild per burst of saves; outputs and dependencies are not sources', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wl-watch-'));
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'target'));
    const rebuilds: string[][] = [];
    watcher = await SourceWatcher.start({
      root,
      debounceMs: 150,
      async rebuild(changed) {
        rebuilds.push(changed);
      },
    });
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(root, 'src', 'lib.rs'), `// ${i}`);
      await sleep(20);
    }
    writeFileSync(join(root, 'target', 'out.wasm'), 'x');
    await sleep(1000);
    expect(rebuilds).toEqual([[join('src', 'lib.rs')]]);
  });

  it('a save during a build runs exactly one more build after it; a failed build does not stop watching', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wl-watch-'));
    let builds = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    watcher = await SourceWatcher.start({
      root,
      debounceMs: 50,
      async rebuild() {
        builds++;
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        await sleep(400);
        concurrent--;
        if (builds === 1) throw new Error('does not compile');
      },
    });
    writeFileSync(join(root, 'a.rs'), '1');
    await sleep(150);
    writeFileSync(join(root, 'a.rs'), '2');
    await sleep(50);
    writeFileSync(join(root, 'b.rs'), '3');
    await sleep(1500);
    expect(builds).toBe(2);
    expect(maxConcurrent).toBe(1);
  });
});
