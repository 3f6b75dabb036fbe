import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handlerPath } from './support/handlers.js';
import { run } from './support/spawn.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const cli = (args: string[], input?: string) =>
  run(process.execPath, ['dist/cli.js', ...args], input === undefined ? {} : { input });

describe('wasi-lambda invoke (the built CLI, as a child process)', () => {
  it('prints the response on stdout and Lambda platform lines on stderr', async () => {
    const { code, stdout, stderr } = await cli([
      'invoke',
      '--handler',
      'hello',
      '--event',
      'test/fixtures/events/hello/ada.json',
      '--no-install',
    ]);
    expect(code).toBe(0);
    expect(stdout).toBe('{"message":"Hello, Ada!"}\n');
    const lines = stderr.split('\n').slice(0, -1);
    const start = new RegExp(`^START RequestId: (${UUID}) Version: \\$LATEST$`).exec(lines[0] ?? '');
    expect(start).not.toBeNull();
    const requestId = start?.[1];
    expect(lines[1]).toMatch(new RegExp(`^\\S+Z\\t${requestId}\\tINFO\\tgreeting Ada from hello$`));
    expect(lines[2]).toBe(`END RequestId: ${requestId}`);
    expect(lines[3]).toMatch(
      new RegExp(
        `^REPORT RequestId: ${requestId}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\t` +
          'Memory Size: 128 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d\\d ms\\t$',
      ),
    );
  });

  it('reads the event from stdin with --event - and honours --memory and --log-format', async () => {
    const { code, stdout, stderr } = await cli(
      ['invoke', '-H', 'hello', '--event', '-', '--memory', '512', '--log-format', 'JSON', '--no-install'],
      '{"name":"Grace"}',
    );
    expect(code).toBe(0);
    expect(stdout).toBe('{"message":"Hello, Grace!"}\n');
    const record = stderr.split('\n').find((line) => line.startsWith('{'));
    expect(JSON.parse(record ?? '')).toMatchObject({ level: 'INFO', message: 'greeting Grace from hello' });
    expect(stderr).toContain('Memory Size: 512 MB');
  });

  it('runs a .wasm file given by path, and exits 1 with the error body on a function error', async () => {
    const { code, stdout } = await cli(
      ['invoke', '--handler', handlerPath('faults'), '--event', '-'],
      '{"action":"fail","error_type":"OutOfStock","message":"sku A1"}',
    );
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({ errorType: 'OutOfStock', errorMessage: 'sku A1' });
  });

  it('stops a guest that never returns at -t, with Lambda timeout error, and logs what it wrote first', async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await cli(
      ['invoke', '--handler', handlerPath('faults'), '--event', '-', '-t', '1'],
      '{"action":"log-then-spin","lines":3}',
    );
    expect(Date.now() - started).toBeLessThan(8000);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 1\.00 seconds$/),
    });
    const lines = stderr.split('\n');
    const end = lines.findIndex((line) => line.startsWith('END RequestId:'));
    expect(lines.slice(1, end).map((line) => line.split('\t').slice(2).join('\t'))).toEqual([
      'INFO\tline 0',
      'INFO\tline 1',
      'INFO\tline 2',
    ]);
  });

  it('passes event bytes from stdin untouched, valid UTF-8 or not', async () => {
    // "caf\xe9": Latin-1, not UTF-8. The guest, not the CLI, decides what that means.
    const input = Buffer.from('{"action":"echo","payload":"caf\xe9"}', 'latin1');
    const { code, stdout } = await run(
      process.execPath,
      ['dist/cli.js', 'invoke', '--handler', handlerPath('faults'), '--event', '-'],
      { input },
    );
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ errorType: 'Runtime.UnmarshalError' });
  });

  it('names the problem and exits 2 for an unknown handler or a missing event file', async () => {
    const unknown = await cli(['invoke', '--handler', 'nope', '--no-install']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/error \[HANDLER_NOT_FOUND\]: no handler package named "nope".*built: .*hello/);

    const missing = await cli(['invoke', '--event', 'no/such/event.json', '--no-install']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/error \[INVALID_INPUT\]: cannot read the event from no\/such\/event\.json/);
  });

  it('rejects a malformed option value before doing any work', async () => {
    const { code, stderr } = await cli(['invoke', '--memory', 'lots']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/--memory.*expected a positive integer/);
  });

  it('build lists the handlers and does not rebuild unchanged sources', async () => {
    const { code, stdout, stderr } = await cli(['build', '--no-install']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/wasi-lambda: up to date/);
    const names = stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t')[0]);
    // Every handler crate, sorted; other crates join the workspace over time.
    expect(names).toEqual(
      expect.arrayContaining(['async-guest', 'faults', 'hello', 'hello-async', 'http-api', 'workloads']),
    );
    expect(names).toEqual([...names].sort());
  });
});

/**
 * Starts `wasi-lambda serve` on a free port, resolves once it has listed its functions, and
 * returns its endpoint, its output so far (kept up to date), and a SIGINT stop.
 */
async function serve(args: string[]) {
  const server = spawn(process.execPath, ['dist/cli.js', 'serve', '--port', '0', '--no-install', ...args]);
  const output = { stdout: '', stderr: '' };
  server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output.stderr += chunk;
      const found = /emulating Lambda at (http:\/\/127\.0\.0\.1:\d+)/.exec(output.stderr);
      // The function list ends with a curl example.
      if (found?.[1] && output.stderr.includes('try: curl')) resolve(found[1]);
    });
    server.on('exit', () => reject(new Error(`serve exited: ${output.stderr}`)));
  });
  const stop = () => {
    const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
    server.kill('SIGINT');
    return exited;
  };
  return { endpoint, output, stop };
}

describe('wasi-lambda invoke --target and serve (through the emulator)', () => {
  it('invoke --target wasm runs a .wasm given by path, named after the file', async () => {
    const { code, stdout, stderr } = await cli([
      'invoke',
      '--target',
      'wasm',
      '-H',
      handlerPath('hello'),
      '-e',
      'test/fixtures/events/hello/ada.json',
    ]);
    expect(code).toBe(0);
    expect(stdout).toBe('{"message":"Hello, Ada!"}\n');
    expect(stderr).toMatch(/\tINFO\tgreeting Ada from hello\n/);
  });

  it.each(['wasm', 'native', 'node'])('invoke --target %s answers hello and prints a REPORT', async (target) => {
    const { code, stdout, stderr } = await cli([
      'invoke',
      '--target',
      target,
      '-H',
      'hello',
      '-e',
      'test/fixtures/events/hello/ada.json',
      '--no-install',
    ]);
    expect(code).toBe(0);
    expect(stdout).toBe('{"message":"Hello, Ada!"}\n');
    expect(stderr).toMatch(/REPORT RequestId: \S+\tDuration: [\d.]+ ms.*\tInit Duration: [\d.]+ ms/);
  });

  it('serve prints its endpoint, answers curl-style requests, and stops on SIGINT', async () => {
    const { endpoint, output, stop } = await serve([]);
    const stderr = output.stderr;
    expect(stderr).toMatch(/hello-native\s+native/);
    expect(stderr).toMatch(/hello-node\s+node/);
    for (const name of ['hello', 'hello-native', 'hello-node']) {
      const response = await fetch(`${endpoint}/2015-03-31/functions/${name}/invocations`, {
        method: 'POST',
        body: '{"name":"Curl"}',
      });
      expect(await response.text()).toBe('{"message":"Hello, Curl!"}');
    }
    expect(await stop()).toBe(0);
  });
});

describe('wasi-lambda serve --config', () => {
  it('serves exactly the configured functions with their settings', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'wasi-lambda-config-')), 'functions.json');
    writeFileSync(
      config,
      JSON.stringify({ functions: { greeter: { kind: 'wasm', handler: 'hello', memoryMb: 512, logFormat: 'json' } } }),
    );
    const { endpoint, output, stop } = await serve(['--config', config]);
    const stderr = output.stderr;
    expect(stderr).toMatch(/ {2}greeter\s+wasm/);
    expect(stderr).not.toMatch(/hello-native/);
    const response = await fetch(`${endpoint}/2015-03-31/functions/greeter/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(await response.text()).toBe('{"message":"Hello, world!"}');
    const missing = await fetch(`${endpoint}/2015-03-31/functions/hello/invocations`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
    expect(await stop()).toBe(0);
    expect(output.stdout).toMatch(/Memory Size: 512 MB/);
    expect(output.stdout).toMatch(/"level":"INFO","message":"greeting world from greeter"/);
  });

  it('names the field that is wrong', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'wasi-lambda-config-')), 'bad.json');
    writeFileSync(config, JSON.stringify({ functions: { broken: { kind: 'wasm', handler: 'hello', memoryMb: -5 } } }));
    const { code, stderr } = await cli(['serve', '--port', '0', '--config', config, '--no-install']);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `error [INVALID_CONFIG]: ${config}: functions.broken.memoryMb: must be a positive integer`,
    );
  });
});
