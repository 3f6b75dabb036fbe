import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
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
    // The guest wrote its in-memory copy; the host directory is only ever read.
    expect(existsSync(join(dir, 'output.txt'))).toBe(false);
  });

  it('never follows a host symlink out of the mapped directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasi-lambda-run-'));
    const outside = mkdtempSync(join(tmpdir(), 'wasi-lambda-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'host secret\n');
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'input.txt'));
    const result = await run(process.execPath, ['dist/cli.js', 'run', command, '--dir', `${dir}::/data`]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('host secret');
    expect(result.stdout).toMatch(/^input: unavailable \(/m);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('host secret\n');
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
