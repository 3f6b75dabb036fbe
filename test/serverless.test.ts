import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fn, startEmulator } from './support/emulator.js';
import { type Moto, startMoto } from './support/moto.js';
import { run } from './support/spawn.js';

const SLS = join('node_modules', 'osls', 'bin', 'serverless.js');
const SERVICE = 'wasi-lambda-examples';

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/** The environment of a machine with no AWS account at all. */
function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') && !(key in extra)) delete env[key];
  return env;
}

function functionResource(template: Template, name: string) {
  const resource = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `${SERVICE}-dev-${name}`,
  );
  if (!resource) throw new Error(`no function ${name} in the template`);
  return resource.Properties;
}

function zipEntries(path: string): string[] {
  return execFileSync('unzip', ['-Z1', path], { encoding: 'utf8' }).trim().split('\n');
}

describe('serverless package (osls), offline, without AWS credentials', () => {
  let template: Template;

  beforeAll(async () => {
    const result = await run(process.execPath, [SLS, 'package'], { env: offlineEnv() });
    expect(result.code, result.stderr).toBe(0);
    template = JSON.parse(readFileSync('.serverless/cloudformation-template-update-stack.json', 'utf8')) as Template;
  });

  it('declares the wasm function on Node.js 22 for arm64 and x86_64 from the same artifact', () => {
    const arm = functionResource(template, 'hello-arm64');
    const x86 = functionResource(template, 'hello-x86');
    expect(arm).toMatchObject({
      Runtime: 'nodejs24.x',
      Handler: 'build/lambda/hello/handler.handler',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 10,
      Environment: { Variables: { STAGE: 'dev', WASI_LAMBDA_ENV: 'STAGE' } },
      LoggingConfig: { LogFormat: 'JSON' },
    });
    expect(x86).toMatchObject({
      Runtime: 'nodejs24.x',
      Handler: 'build/lambda/hello/handler.handler',
      Architectures: ['x86_64'],
      MemorySize: 128,
      Timeout: 3,
      LoggingConfig: { LogFormat: 'Text' },
    });
    expect((arm.Code as { S3Key: string }).S3Key).toBe((x86.Code as { S3Key: string }).S3Key);
    expect((arm.Code as { S3Key: string }).S3Key).toMatch(/\/hello\.zip$/);
  });

  it('declares the native bootstrap on provided.al2023', () => {
    expect(functionResource(template, 'hello-native')).toMatchObject({
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['x86_64'],
      MemorySize: 128,
      Timeout: 3,
      Environment: { Variables: { STAGE: 'dev' } },
    });
  });

  it('declares fetch as wasm on arm64 and x86_64 (one artifact, egress granted to example.com) and native', () => {
    const grant = { Variables: { WASI_LAMBDA_ALLOW_HOSTS: 'example.com' } };
    const arm = functionResource(template, 'fetch-arm64');
    const x86 = functionResource(template, 'fetch-x86');
    for (const [wasm, architecture] of [
      [arm, 'arm64'],
      [x86, 'x86_64'],
    ] as const) {
      expect(wasm).toMatchObject({
        Runtime: 'nodejs24.x',
        Handler: 'build/lambda/fetch/handler.handler',
        Architectures: [architecture],
        Environment: grant,
      });
    }
    expect((arm.Code as { S3Key: string }).S3Key).toBe((x86.Code as { S3Key: string }).S3Key);
    expect((arm.Code as { S3Key: string }).S3Key).toMatch(/\/fetch\.zip$/);
    const native = functionResource(template, 'fetch-native');
    expect(native).toMatchObject({ Runtime: 'provided.al2023', Handler: 'bootstrap', Architectures: ['x86_64'] });
    expect(native.Environment).toBeUndefined();
    expect(zipEntries('build/lambda/fetch-native.zip')).toEqual(['bootstrap']);
  });

  it('declares orders on an SQS queue, the role granting exactly its calls, the wasm guest under a matching grant', () => {
    const arm = functionResource(template, 'orders-arm64');
    const x86 = functionResource(template, 'orders-x86');
    const native = functionResource(template, 'orders-native');
    for (const wasm of [arm, x86]) {
      const variables = (wasm.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables).toMatchObject({
        ORDERS_TABLE: { Ref: 'OrdersTable' },
        ORDERS_BUCKET: { Ref: 'OrdersBucket' },
        WASI_LAMBDA_ENV: 'ORDERS_TABLE,ORDERS_BUCKET,WEBHOOK_URL',
        WASI_LAMBDA_ALLOW_HOSTS: 'example.com',
      });
      expect(variables.WASI_LAMBDA_AWS).toEqual({
        'Fn::Join': ['', ['dynamodb:table/', { Ref: 'OrdersTable' }, ',s3:', { Ref: 'OrdersBucket' }]],
      });
    }
    expect((arm.Code as { S3Key: string }).S3Key).toBe((x86.Code as { S3Key: string }).S3Key);
    expect(native).toMatchObject({ Runtime: 'provided.al2023', Handler: 'bootstrap' });
    expect(Object.keys((native.Environment as { Variables: object }).Variables).sort()).toEqual([
      'ORDERS_BUCKET',
      'ORDERS_TABLE',
      'WEBHOOK_URL',
    ]);
    const role = template.Resources.IamRoleLambdaExecution?.Properties as {
      Policies: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } }[];
    };
    const statements = role.Policies.flatMap((policy) => policy.PolicyDocument.Statement);
    const grants = (action: string) => statements.filter((st) => st.Action.includes(action)).map((st) => st.Resource);
    expect(grants('dynamodb:PutItem')).toEqual([{ 'Fn::GetAtt': ['OrdersTable', 'Arn'] }]);
    expect(grants('s3:PutObject')).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['OrdersBucket', 'Arn'] }, '/orders/*']] },
    ]);
    const awsActions = statements.flatMap((st) => st.Action).filter((action) => /^(dynamodb|s3):/.test(action));
    expect(awsActions.sort()).toEqual(['dynamodb:PutItem', 's3:PutObject']);
    const mappings = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(3);
    for (const mapping of mappings) {
      expect(mapping.Properties).toMatchObject({ FunctionResponseTypes: ['ReportBatchItemFailures'] });
    }
  });

  it('declares the raw-bytes variant: the managed runtime hands over through AWS_LAMBDA_EXEC_WRAPPER', () => {
    expect(functionResource(template, 'hello-raw')).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: { Variables: { AWS_LAMBDA_EXEC_WRAPPER: '/var/task/wrapper', WASI_LAMBDA_ENV: 'STAGE' } },
    });
    // The runtime client is one CommonJS file: no chunks beside it.
    expect(zipEntries('build/lambda/hello-raw.zip')).toEqual([
      'wrapper',
      'runtime.cjs',
      'guest-worker.mjs',
      'handler.wasm',
    ]);
    const modes = execFileSync('unzip', ['-Z', 'build/lambda/hello-raw.zip'], { encoding: 'utf8' });
    expect(modes).toMatch(/-rwxr-xr-x .* wrapper\n/);
  });

  it('the raw-bytes package, unzipped, serves invocations when its wrapper is the runtime', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wasi-lambda-raw-'));
    execFileSync('unzip', ['-q', 'build/lambda/hello-raw.zip', '-d', root]);
    const running = await startEmulator([fn({ name: 'hello-raw', kind: 'native', code: join(root, 'wrapper') })]);
    try {
      const reply = await running.invoke('hello-raw', '{"name":"Raw"}');
      expect(reply.body).toBe('{"message":"Hello, Raw!"}');
      expect(running.logs.join('')).toMatch(/\tINFO\tgreeting Raw from hello-raw\n/);
    } finally {
      await running.emulator.stop();
    }
  });

  it('creates a log group per function', () => {
    const groups = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Logs::LogGroup')
      .map((r) => r.Properties.LogGroupName)
      .sort();
    expect(groups).toEqual(
      [
        'fetch-arm64',
        'fetch-native',
        'fetch-x86',
        'hello-arm64',
        'hello-native',
        'hello-raw',
        'hello-x86',
        'orders-arm64',
        'orders-native',
        'orders-x86',
      ].map((name) => `/aws/lambda/${SERVICE}-dev-${name}`),
    );
  });

  it('packages exactly the bundle, its guest worker, the .wasm and the module marker; exactly bootstrap for native', () => {
    expect(zipEntries('build/lambda/hello.zip')).toEqual([
      'build/lambda/hello/handler.js',
      'build/lambda/hello/guest-worker.mjs',
      'build/lambda/hello/handler.wasm',
      'build/lambda/hello/package.json',
    ]);
    expect(zipEntries('build/lambda/hello-native.zip')).toEqual(['bootstrap']);
  });

  it('the packaged Node.js function, unzipped, answers through the local emulator', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wasi-lambda-unzipped-'));
    execFileSync('unzip', ['-q', 'build/lambda/hello.zip', '-d', root]);
    const x86 = functionResource(template, 'hello-x86');
    const running = await startEmulator([
      fn({
        name: 'hello-x86',
        kind: 'node',
        code: root,
        handler: x86.Handler as string,
        memoryMb: x86.MemorySize as number,
        timeoutSeconds: x86.Timeout as number,
        environment: (x86.Environment as { Variables: Record<string, string> }).Variables,
      }),
    ]);
    try {
      const reply = await running.invoke('hello-x86', '{"name":"Zip"}');
      expect(reply.body).toBe('{"message":"Hello, Zip!"}');
      expect(running.logs.join('')).toMatch(/\tINFO\tgreeting Zip from hello-x86\n/);
    } finally {
      await running.emulator.stop();
    }
  });

  it('serverless invoke local runs the wasm function through the managed-runtime entry', async () => {
    const result = await run(
      process.execPath,
      [SLS, 'invoke', 'local', '-f', 'hello-x86', '--data', '{"name":"Local"}'],
      {
        env: offlineEnv({ WASI_LAMBDA_SKIP_BUILD: '1' }),
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\tINFO\tgreeting Local from wasi-lambda-examples-dev-hello-x86\n/);
    expect(JSON.parse(result.stdout.slice(result.stdout.indexOf('{')))).toEqual({ message: 'Hello, Local!' });
  });
});

describe('serverless deploy against moto, a real AWS-compatible API on loopback', () => {
  let moto: Moto;
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

  beforeAll(async () => {
    moto = await startMoto();
    const result = await run(process.execPath, [SLS, 'deploy', '--stage', 'moto'], {
      env: offlineEnv({
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_REGION: 'us-east-1',
        WASI_LAMBDA_SKIP_BUILD: '1',
      }),
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  });

  afterAll(() => moto?.stop());

  it('creates each function with its runtime, handler, memory, timeout and environment', async () => {
    const lambda = new LambdaClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    const get = (name: string) =>
      lambda.send(new GetFunctionConfigurationCommand({ FunctionName: `${SERVICE}-moto-${name}` }));
    expect(await get('hello-arm64')).toMatchObject({
      Runtime: 'nodejs24.x',
      Handler: 'build/lambda/hello/handler.handler',
      MemorySize: 256,
      Timeout: 10,
      Environment: { Variables: { STAGE: 'moto', WASI_LAMBDA_ENV: 'STAGE' } },
    });
    expect(await get('hello-x86')).toMatchObject({ Runtime: 'nodejs24.x', MemorySize: 128, Timeout: 3 });
    const native = await get('hello-native');
    expect(native).toMatchObject({ Runtime: 'provided.al2023', Handler: 'bootstrap', MemorySize: 128 });
    expect(native.CodeSize).toBe(readFileSync('build/lambda/hello-native.zip').length);
  });

  it('deploys the architectures in the stack (moto 5.2.5 drops Architectures from the Lambda it creates)', async () => {
    const cloudformation = new CloudFormationClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    const { TemplateBody } = await cloudformation.send(new GetTemplateCommand({ StackName: `${SERVICE}-moto` }));
    const deployed = JSON.parse(TemplateBody ?? '{}') as Template;
    const architectures = Object.values(deployed.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => [r.Properties.FunctionName, r.Properties.Architectures]);
    expect(architectures).toEqual(
      expect.arrayContaining([
        [`${SERVICE}-moto-hello-arm64`, ['arm64']],
        [`${SERVICE}-moto-hello-x86`, ['x86_64']],
        [`${SERVICE}-moto-hello-native`, ['x86_64']],
      ]),
    );
  });
});
