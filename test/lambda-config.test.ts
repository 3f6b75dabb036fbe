import { describe, expect, it } from 'vitest';
import { fromNodeContext } from '../src/host/context.js';
import { awsGuestVariables, guestEnvironment } from '../src/lambda/guest-env.js';

describe('guestEnvironment', () => {
  const lambdaEnv = {
    AWS_REGION: 'eu-west-1',
    AWS_LAMBDA_FUNCTION_NAME: 'quotes',
    AWS_ACCESS_KEY_ID: 'AKIA…',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SESSION_TOKEN: 'token',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    PATH: '/usr/bin',
    STAGE: 'prod',
    TABLE: 'orders',
    UNLISTED: 'x',
  };

  it('grants Lambda descriptive variables and the listed ones, never credentials', () => {
    expect(guestEnvironment({ ...lambdaEnv, WASI_LAMBDA_ENV: 'STAGE, TABLE,MISSING' })).toEqual({
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'quotes',
      STAGE: 'prod',
      TABLE: 'orders',
    });
  });

  it('grants the AWS endpoints (moto, LocalStack) so the guest SDK sends where the host signs', () => {
    const endpoints = { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:5001' };
    expect(guestEnvironment({ ...lambdaEnv, ...endpoints })).toEqual({
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'quotes',
      ...endpoints,
    });
    expect(awsGuestVariables({ ...lambdaEnv, ...endpoints })).toEqual({ AWS_REGION: 'eu-west-1', ...endpoints });
  });

  it('refuses an endpoint carrying user:password@ instead of showing the secret to the guest', () => {
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3']) {
      const env = { ...lambdaEnv, [name]: 'http://admin:hunter2@127.0.0.1:5000' };
      expect(() => guestEnvironment(env)).toThrow(new RegExp(`${name} carries user:password@`));
      expect(() => awsGuestVariables(env)).toThrow(/remove the credentials from the URL/);
    }
  });

  it('refuses a configuration that lists credentials, naming them', () => {
    expect(() => guestEnvironment({ ...lambdaEnv, WASI_LAMBDA_ENV: 'STAGE,AWS_SESSION_TOKEN' })).toThrow(
      /WASI_LAMBDA_ENV lists AWS_SESSION_TOKEN; AWS credentials are never passed to a wasm guest/,
    );
  });
});

describe('fromNodeContext', () => {
  it('maps the managed runtime context and serialises identity and client context', () => {
    const ctx = fromNodeContext(
      {
        awsRequestId: 'req',
        functionName: 'quotes',
        functionVersion: '7',
        invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:quotes:live',
        memoryLimitInMB: '512',
        logGroupName: '/aws/lambda/quotes',
        logStreamName: 'stream',
        getRemainingTimeInMillis: () => 2500,
        identity: { cognitoIdentityId: 'c' },
        clientContext: undefined,
      },
      { _X_AMZN_TRACE_ID: 'Root=1-abc' },
      1_000_000,
    );
    expect(ctx).toEqual({
      requestId: 'req',
      functionName: 'quotes',
      functionVersion: '7',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:quotes:live',
      memoryLimitMb: 512,
      deadlineMs: 1_002_500,
      logGroupName: '/aws/lambda/quotes',
      logStreamName: 'stream',
      xrayTraceId: 'Root=1-abc',
      clientContext: undefined,
      identity: '{"cognitoIdentityId":"c"}',
      tenantId: undefined,
    });
  });
});
