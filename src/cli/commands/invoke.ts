import { readFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { awsConfig } from '../../aws/aws-config.js';
import { defaultHandler } from '../../build/default-handler.js';
import { localFunction } from '../../build/local-functions.js';
import type { FunctionKind } from '../../emulator/function-config.js';
import { invokeViaEmulator } from '../../emulator/invoke-via-emulator.js';
import { toError, WasiLambdaError } from '../../errors.js';
import { awsGuestVariables } from '../../lambda/guest-env.js';
import { parseBackend } from '../../lambda/host-config.js';
import { dataExample, dataExampleNames } from '../../local/data-examples.js';
import { invokeLocal } from '../../local/invoke-local.js';
import { parseLogFormat } from '../../logging/log-format.js';
import { parseKeyValues } from '../key-values.js';

export interface InvokeCommandOptions {
  handler?: string;
  event?: string;
  /** A sample event by name (`sqs`, `apigw-http`, …), or `list` to print the names. */
  dataExample?: string;
  workspace: string;
  logFormat?: string;
  memory: number;
  timeout: number;
  functionName?: string;
  env: string[];
  install: boolean;
  target?: string;
  backend?: string;
  tmp?: number;
  /** `--allow-host`, repeatable: egress grants, as `WASI_LAMBDA_ALLOW_HOSTS` entries. */
  allowHost: string[];
}

async function readEvent(source: string | undefined): Promise<Uint8Array> {
  if (source === undefined) return new TextEncoder().encode('{}');
  try {
    // Bytes stay bytes: the event reaches the guest exactly as read, valid UTF-8 or not.
    if (source === '-') return new Uint8Array(await buffer(process.stdin));
    return await readFile(source);
  } catch (err) {
    throw new WasiLambdaError('INVALID_INPUT', `cannot read the event from ${source}: ${toError(err).message}`);
  }
}

/** `a, b,c` → `['a', 'b', 'c']`. */
function grantList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/**
 * `wasi-lambda invoke`: one local invocation. The response goes to stdout; logs and the
 * START/END/REPORT lines go to stderr. Exits 1 when the function returned an error.
 */
export async function invokeCommand(options: InvokeCommandOptions): Promise<number> {
  if (options.dataExample === 'list') {
    for (const name of dataExampleNames()) process.stdout.write(`${name}\n`);
    return 0;
  }
  if (options.dataExample !== undefined && options.event !== undefined) {
    throw new WasiLambdaError('INVALID_INPUT', '--event and --data-example both name the event; pass one');
  }
  const event = options.dataExample === undefined ? await readEvent(options.event) : dataExample(options.dataExample);
  const handler = options.handler ?? defaultHandler(options.workspace);
  if (options.target !== undefined) return invokeTarget(options, handler, options.target as FunctionKind, event);
  const aws = process.env.WASI_LAMBDA_AWS ? awsConfig(process.env) : undefined;
  const { outcome } = await invokeLocal({
    handler,
    event,
    workspace: options.workspace,
    logFormat: parseLogFormat(options.logFormat ?? process.env.AWS_LAMBDA_LOG_FORMAT, '--log-format'),
    // A function that may call AWS also sees its region and endpoint, as on Lambda, so its SDK
    // sends where the host will sign; never the keys.
    env: { ...(aws === undefined ? {} : awsGuestVariables(process.env)), ...parseKeyValues(options.env) },
    config: {
      memoryMb: options.memory,
      timeoutSeconds: options.timeout,
      ...(options.functionName === undefined ? {} : { functionName: options.functionName }),
    },
    build: { install: options.install },
    tmp: options.tmp === undefined ? undefined : { maxBytes: options.tmp * 2 ** 20 },
    backend: parseBackend(options.backend, '--backend'),
    // The grants a function's configuration would carry, from this process's environment (as
    // on Lambda), plus --allow-host; AWS calls are signed with this process's credentials.
    allowHosts: [...grantList(process.env.WASI_LAMBDA_ALLOW_HOSTS), ...options.allowHost],
    aws,
  });
  if (outcome.status === 'ok') {
    process.stdout.write(outcome.response);
    process.stdout.write('\n');
    return 0;
  }
  process.stdout.write(`${JSON.stringify(outcome.error)}\n`);
  return 1;
}

/** `--target wasm|native|node`: one invocation through the emulator's Invoke API. */
async function invokeTarget(
  options: InvokeCommandOptions,
  handler: string,
  kind: FunctionKind,
  event: Uint8Array,
): Promise<number> {
  const fn = await localFunction(handler, kind, {
    workspace: options.workspace,
    install: options.install,
    backend: parseBackend(options.backend, '--backend'),
    overrides: {
      memoryMb: options.memory,
      timeoutSeconds: options.timeout,
      environment: {
        ...parseKeyValues(options.env),
        // The emulated function reads its grant from its configuration, as on Lambda.
        ...(options.allowHost.length === 0 ? {} : { WASI_LAMBDA_ALLOW_HOSTS: options.allowHost.join(',') }),
      },
      logFormat: parseLogFormat(options.logFormat ?? process.env.AWS_LAMBDA_LOG_FORMAT, '--log-format'),
    },
  });
  const result = await invokeViaEmulator(fn, event, (line) => process.stderr.write(line));
  process.stdout.write(result.body);
  process.stdout.write('\n');
  return result.status === 200 && result.functionError === undefined ? 0 : 1;
}
