/**
 * A minimal Node.js runtime (the baseline users would pick instead of wasm): loads
 * `_HANDLER` (`file.export`) from `LAMBDA_TASK_ROOT` and serves it over the Runtime API with
 * the managed runtime's conventions: JSON events, `(event, context)` handlers, console
 * output as Lambda log records, errors as `{errorType, errorMessage, trace}`.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { formatLogLine, type LogLevel, parseLogFormat } from '../logging/log-format.js';
import { type NextInvocation, RuntimeApiClient } from './runtime-api-client.js';

type Handler = (event: unknown, context: unknown) => unknown;

const env = process.env;
const logFormat = parseLogFormat(env.AWS_LAMBDA_LOG_FORMAT, 'AWS_LAMBDA_LOG_FORMAT');
let requestId: string | undefined;

function patchConsole(): void {
  const levels: [keyof Console, LogLevel][] = [
    ['log', 'INFO'],
    ['info', 'INFO'],
    ['warn', 'WARN'],
    ['error', 'ERROR'],
    ['debug', 'DEBUG'],
    ['trace', 'TRACE'],
  ];
  for (const [method, level] of levels) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      process.stdout.write(formatLogLine(logFormat, level, requestId, format(...args)));
    };
  }
}

function errorBody(err: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  if (err instanceof Error) {
    return { errorType: err.name, errorMessage: err.message, trace: (err.stack ?? '').split('\n') };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

function context(next: NextInvocation) {
  return {
    awsRequestId: next.requestId,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: next.invokedFunctionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    identity: next.cognitoIdentity ? JSON.parse(next.cognitoIdentity) : undefined,
    clientContext: next.clientContext ? JSON.parse(next.clientContext) : undefined,
    tenantId: next.tenantId,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, next.deadlineMs - Date.now()),
  };
}

async function loadHandler(api: RuntimeApiClient): Promise<Handler> {
  const spec = env._HANDLER ?? 'index.handler';
  const dot = spec.lastIndexOf('.');
  const [file, name] = [spec.slice(0, dot), spec.slice(dot + 1)];
  try {
    // Like Lambda: `file.js` (ESM when package.json says so), `file.mjs`, then `file.cjs`.
    const base = join(env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
    const path = ['.js', '.mjs', '.cjs'].map((ext) => `${base}${ext}`).find((candidate) => existsSync(candidate));
    if (path === undefined) {
      throw Object.assign(new Error(`Cannot find module '${file}'`), { name: 'Runtime.ImportModuleError' });
    }
    const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    const handler = module[name];
    if (typeof handler !== 'function')
      throw Object.assign(new Error(`${spec} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
    return handler as Handler;
  } catch (err) {
    const body = errorBody(err);
    if (body.errorType === 'Error') body.errorType = 'Runtime.ImportModuleError';
    await api.initError(body);
    process.exit(129);
  }
}

async function main(): Promise<void> {
  patchConsole();
  const api = new RuntimeApiClient(env.AWS_LAMBDA_RUNTIME_API ?? '');
  const handler = await loadHandler(api);
  for (;;) {
    const next = await api.next();
    requestId = next.requestId;
    try {
      const result = await handler(JSON.parse(next.event.toString('utf8')), context(next));
      await api.respond(next.requestId, Buffer.from(JSON.stringify(result) ?? 'null'));
    } catch (err) {
      await api.fail(next.requestId, errorBody(err));
    }
  }
}

await main();
