import { randomBytes, randomUUID } from 'node:crypto';
import { type InvokeContext, invokeContext } from '../host/context.js';

/** The function configuration a local invocation pretends to run under. */
export interface LocalFunctionConfig {
  functionName: string;
  /** Memory size in MB; Lambda's default is 128. */
  memoryMb: number;
  /** Timeout in seconds; Lambda's default is 3. */
  timeoutSeconds: number;
  region: string;
  accountId: string;
}

export const LOCAL_DEFAULTS: Omit<LocalFunctionConfig, 'functionName'> = {
  memoryMb: 128,
  timeoutSeconds: 3,
  region: 'us-east-1',
  accountId: '000000000000',
};

/** A log stream name in Lambda's shape: `YYYY/MM/DD/[$LATEST]<32 hex>`. */
export function logStreamName(now: Date, version: string): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}

/** A context like the one Lambda would give this invocation, with a fresh request id. */
export function localContext(config: LocalFunctionConfig, now: Date = new Date()): InvokeContext {
  const version = '$LATEST';
  return invokeContext(
    {
      functionName: config.functionName,
      functionVersion: version,
      memoryLimitMb: config.memoryMb,
      logGroupName: `/aws/lambda/${config.functionName}`,
      logStreamName: logStreamName(now, version),
    },
    {
      requestId: randomUUID(),
      invokedFunctionArn: `arn:aws:lambda:${config.region}:${config.accountId}:function:${config.functionName}`,
      deadlineMs: now.getTime() + config.timeoutSeconds * 1000,
    },
  );
}
