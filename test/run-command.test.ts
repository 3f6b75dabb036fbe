import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCargo } from '../src/build/cargo.js';
import { resolveWasmToolchain } from '../src/build/toolchain.js';
import { run } from './support/spawn.js';

describe('wasi-lambda run: a WASI command with only what it is given', () => {
  let command = '';

  beforeAll(async () => {
    const workspace = resolve('wasm-handlers');
    const toolchain = resolveWasmToolchain({ install: true, note: () => {}, workspace });
    await runCargo(toolchain, workspace, ['build', '-p', 'wasi-command', '--bin', 'wasi-command'], (artifact) => {
      const wasm = artifact.filenames?.find((f) => f.endsWith('.wasm'));
      if (wasm && artifact.target?.name === 'wasi-command') command = wasm;
    });
    expect(command).not.toBe('');
  }, 600_000);

  it('passes args, env and a preopened directory, and exits with the guest status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasi-lambda-run-'));
    writeFileSync(join(dir, 'input.txt'), 'hello from the host\n');
    const result = await run(process.execPath, [
      'dist/cli.js',
      'run',
      command,
      '--dir',
      `${dir}::/data`,
      '--env',
      'GREETING=hi there',
      '--',
      '7',
      'two words',
    ]);
    expect(result.code).toBe(7);
    expect(result.stdout).toBe('args: 7 two words\ninput: hello from the host\noutput: written\n');
    expect(result.stderr).toContain('GREETING=hi there\n');
    expect(readFileSync(join(dir, 'output.txt'), 'utf8')).toBe('written by wasi-command\n');
  });

  it('grants nothing by default: no directories, no variables', async () => {
    process.env.GREETING = 'from the host process';
    try {
      const result = await run(process.execPath, ['dist/cli.js', 'run', command]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^args: \ninput: unavailable \([\w ]+\)\n$/);
      expect(result.stderr).toContain('GREETING=\n');
    } finally {
      delete process.env.GREETING;
    }
  });

  it('refuses a handler module, which is a reactor, with a pointer to invoke', async () => {
    const { inject } = await import('vitest');
    const result = await run(process.execPath, ['dist/cli.js', 'run', inject('handlers').hello ?? '']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\[CONTRACT_MISSING\].*not a WASI command/);
  });
});
