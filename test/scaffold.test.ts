import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WasiLambdaError } from '../src/errors.js';
import { dataExample, dataExampleNames } from '../src/local/data-examples.js';
import { newProject } from '../src/scaffold/new-project.js';
import { projectName } from '../src/scaffold/project-name.js';
import { TEMPLATES } from '../src/scaffold/templates.js';

const CLI = resolve('dist/cli.js');

function cli(args: string[], cwd: string) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof WasiLambdaError) return err.code;
    throw err;
  }
  return undefined;
}

describe('wasi-lambda new', () => {
  it.each(TEMPLATES)('the %s template is a complete project with every placeholder filled', (template) => {
    const parent = mkdtempSync(join(tmpdir(), 'wl-new-'));
    const { dir, files } = newProject({ name: 'orders-api', template, parent });
    expect(files).toEqual(
      expect.arrayContaining(['.gitignore', 'Cargo.toml', 'README.md', 'package.json', 'serverless.yml', 'src/lib.rs']),
    );
    expect(files.some((file) => file.startsWith('events/'))).toBe(true);
    for (const file of files) expect(readFileSync(join(dir, file), 'utf8')).not.toMatch(/\{\{\w+\}\}/);

    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('orders-api');
    expect(Object.keys(manifest.scripts)).toEqual(
      expect.arrayContaining(['invoke', 'test', 'package', 'deploy', 'watch']),
    );
    // The dev dependency is the package this ran from, so `npm install` links it with its SDK crates.
    const spec: string = manifest.devDependencies['wasi-lambda'];
    expect(spec.startsWith('file:')).toBe(true);
    expect(realpathSync(resolve(dir, spec.slice('file:'.length)))).toBe(realpathSync('.'));
    const event = manifest.scripts.invoke.split(' ').at(-1);
    expect(existsSync(join(dir, event))).toBe(true);

    const cargo = readFileSync(join(dir, 'Cargo.toml'), 'utf8');
    expect(cargo).toContain('name = "orders-api"');
    expect(cargo).toContain('crate-type = ["cdylib", "rlib"]');
    expect(cargo).toContain('path = "node_modules/wasi-lambda/sdk/wasi-lambda"');
    expect(readFileSync(join(dir, 'src/lib.rs'), 'utf8')).toContain('#[cfg(test)]');
    const sls = readFileSync(join(dir, 'serverless.yml'), 'utf8');
    expect(sls).toContain('runtime: nodejs24.x');
    expect(sls).toContain('architecture: arm64');
    expect(sls).toContain('runtime: provided.al2023');
  });

  it('refuses to overwrite a directory that has anything in it', () => {
    const parent = mkdtempSync(join(tmpdir(), 'wl-new-'));
    mkdirSync(join(parent, 'demo'));
    writeFileSync(join(parent, 'demo', 'Cargo.toml'), 'mine');
    expect(code(() => newProject({ name: 'demo', parent }))).toBe('INVALID_INPUT');
    expect(readFileSync(join(parent, 'demo', 'Cargo.toml'), 'utf8')).toBe('mine');
    // An empty directory (made by `mkdir demo && cd demo`) is fine.
    mkdirSync(join(parent, 'empty'));
    expect(newProject({ name: 'empty', parent }).files.length).toBeGreaterThan(5);
  });

  it.each([
    'Demo',
    '1demo',
    'demo--api',
    '-demo',
    'demo-',
    '../demo',
    'de mo',
    'dé',
    'wasi-lambda',
    'test',
    'a'.repeat(41),
  ])('rejects the name %j', (name) => {
    expect(code(() => projectName(name))).toBe('INVALID_INPUT');
  });

  it('from the CLI: a bad name or template exits non-zero and writes nothing', () => {
    const parent = mkdtempSync(join(tmpdir(), 'wl-new-'));
    const bad = cli(['new', '../escape'], parent);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('INVALID_INPUT');
    expect(existsSync(join(parent, '..', 'escape'))).toBe(false);
    expect(cli(['new', 'ok', '--template', 'nope'], parent).status).not.toBe(0);
    const good = cli(['new', 'ok', '--template', 'sqs'], parent);
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('npm run invoke');
    expect(cli(['new', 'ok'], parent).status).toBe(2);
  });
});

describe('invoke --data-example', () => {
  /** What identifies each source's event, as AWS documents it. */
  // biome-ignore lint/suspicious/noExplicitAny: untyped sample JSON, probed one field at a time
  const SHAPES: Record<string, (event: any) => unknown> = {
    'apigw-rest': (e) => e.requestContext.resourcePath && e.httpMethod,
    'apigw-http': (e) => e.version === '2.0' && e.requestContext.http.method,
    alb: (e) => e.requestContext.elb.targetGroupArn,
    'function-url': (e) => e.version === '2.0' && e.requestContext.domainName.endsWith('.on.aws'),
    sqs: (e) => e.Records[0].eventSource === 'aws:sqs',
    sns: (e) => e.Records[0].EventSource === 'aws:sns',
    s3: (e) => e.Records[0].eventSource === 'aws:s3',
    eventbridge: (e) => e['detail-type'] && e.detail,
    dynamodb: (e) => e.Records[0].eventSource === 'aws:dynamodb',
    kinesis: (e) => e.Records[0].eventSource === 'aws:kinesis' && atob(e.Records[0].kinesis.data),
    'cloudwatch-logs': (e) => e.awslogs.data,
    'cognito-pre-signup': (e) => e.triggerSource === 'PreSignUp_SignUp',
  };

  it('has every common source, each in its documented shape', () => {
    expect(dataExampleNames()).toEqual(Object.keys(SHAPES).sort());
    for (const [name, shape] of Object.entries(SHAPES)) {
      expect(shape(JSON.parse(new TextDecoder().decode(dataExample(name)))), name).toBeTruthy();
    }
  });

  it('list prints one name per line; an unknown name says which exist', () => {
    const list = cli(['invoke', '--data-example', 'list'], '.');
    expect(list.status).toBe(0);
    expect(list.stdout.trim().split('\n')).toEqual(dataExampleNames());
    const unknown = cli(['invoke', '--data-example', 'nope'], '.');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('sqs');
  });

  it('sends the sample to the handler', () => {
    const result = cli(['invoke', '--handler', 'hello', '--data-example', 'eventbridge'], '.');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('{"message":"Hello, world!"}');
  });
});
