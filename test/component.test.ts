import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpileBytes, writeFiles } from '@bytecodealliance/jco-transpile';
import { componentWit, parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateComponent } from '../src/component/build-components.js';
import { componentize, readWorldWit } from '../src/component/componentize.js';
import { WasiLambdaError } from '../src/errors.js';
import { identityOf } from '../src/host/context.js';
import { WasmHost } from '../src/host/wasm-host.js';
import { decode, encode, handlerPath, testContext } from './support/handlers.js';

/** The `handle` export of a transpiled component, as jco's bindings type it. */
type ComponentHandle = (event: Uint8Array, ctx: Record<string, unknown>) => Uint8Array;

async function transpiledHandle(name: string): Promise<ComponentHandle> {
  const component = await componentize(await readFile(handlerPath(name)));
  // Inside the project, so the generated module resolves @bytecodealliance/preview2-shim.
  const outDir = join('wasm-handlers', 'target', 'jco-test', name);
  await mkdir(outDir, { recursive: true });
  // The world's `environment` import, answered as the direct host answers it for `testContext`.
  const identity = identityOf(testContext());
  await writeFile(join(outDir, 'environment.js'), `export const identity = () => (${JSON.stringify(identity)});\n`);
  const { files } = await transpileBytes(component, {
    name,
    outDir: `${outDir}/`,
    map: { 'wasi-lambda:handler/environment': './environment.js' },
  });
  await writeFiles(files);
  const module = (await import(pathToFileURL(join(outDir, `${name}.js`)).href)) as { handle: ComponentHandle };
  return module.handle;
}

function componentContext(ctx = testContext()): Record<string, unknown> {
  return { ...ctx, deadlineMs: BigInt(ctx.deadlineMs) };
}

describe('the core module as a WebAssembly component (jco)', () => {
  it('wraps with the preview1 reactor adapter and exposes exactly the WIT world', async () => {
    const component = await componentize(await readFile(handlerPath('hello')));
    const wit = await componentWit(component);
    expect(wit).toMatch(/export handle: func\(event: list<u8>, ctx: context\) -> result<list<u8>, handler-error>;/);
    expect(wit).toContain('use wasi-lambda:handler/types@0.2.0.{context, handler-error}');
  });

  describe.each([
    ['hello', 'test/fixtures/events/hello/ada.json'],
    ['http-api', 'test/fixtures/events/http-api/quote.json'],
  ])('%s', (name, fixture) => {
    let handle: ComponentHandle;
    let direct: WasmHost;
    beforeAll(async () => {
      handle = await transpiledHandle(name);
      direct = await WasmHost.fromFile(handlerPath(name), { logSink: () => {} });
    });

    it('returns the same response under jco transpile as on the direct path', async () => {
      const event = await readFile(fixture);
      const ctx = testContext();
      const viaComponent = decode(handle(event, componentContext(ctx)));
      const viaDirect = direct.invoke(event, ctx);
      expect(viaDirect.status).toBe('ok');
      if (viaDirect.status !== 'ok') return;
      expect(viaComponent).toBe(decode(viaDirect.response));
      expect(JSON.parse(viaComponent)).toBeTypeOf('object');
    });
  });

  it('reports a handler error as the err case of the result, with the same body', async () => {
    const handle = await transpiledHandle('faults');
    const event = encode('{"action":"fail","error_type":"ValidationError","message":"sku is required"}');
    let payload: unknown;
    try {
      handle(event, componentContext());
    } catch (err) {
      // jco throws the `err` value itself, or wraps it in a ComponentError with `.payload`.
      payload = err !== null && typeof err === 'object' && 'payload' in err ? err.payload : err;
    }
    expect(payload).toEqual({ errorType: 'ValidationError', errorMessage: 'sku is required' });

    const direct = await WasmHost.fromFile(handlerPath('faults'), { logSink: () => {} });
    const outcome = direct.invoke(event, testContext());
    expect(outcome).toEqual({ status: 'error', kind: 'handler', error: payload });
  });

  it('passes every context field through the canonical ABI the same way', async () => {
    const handle = await transpiledHandle('faults');
    const ctx = testContext({
      xrayTraceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      clientContext: '{"client":{"installation_id":"i-1"}}',
      identity: '{"cognitoIdentityId":"eu-west-1:abc"}',
      tenantId: 'tenant-ü',
    });
    const event = encode('{"action":"context"}');
    const viaComponent = JSON.parse(decode(handle(event, componentContext(ctx))));
    const direct = await WasmHost.fromFile(handlerPath('faults'), { logSink: () => {} });
    const outcome = direct.invoke(event, ctx);
    if (outcome.status !== 'ok') throw new Error(JSON.stringify(outcome));
    const viaDirect = JSON.parse(decode(outcome.response));
    // remainingMs depends on when each call ran.
    delete viaComponent.remainingMs;
    delete viaDirect.remainingMs;
    expect(viaComponent).toEqual(viaDirect);
    expect(viaDirect.tenantId).toBe('tenant-ü');
    expect(viaDirect.deadlineMs).toBe(ctx.deadlineMs);
  });
});

describe('wasi-lambda build --component validation', () => {
  it('accepts the built components: their WIT exports exactly the world', async () => {
    await expect(
      validateComponent(await componentize(await readFile(handlerPath('http-api')))),
    ).resolves.toBeUndefined();
  });

  it('refuses to wrap a core module that does not name the world version it was built for', async () => {
    // As the SDK built it for world 0.1.0: the handler's exports, no `wasi-lambda:abi` section.
    const core = await parse(`(module (memory (export "memory") 1)
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 8))
      (func (export "cabi_post_handle") (param i32))
      (func (export "handle") (param i32) (result i32) (i32.const 0)))`);
    const err = await componentize(core).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasiLambdaError);
    expect((err as WasiLambdaError).code).toBe('CONTRACT_MISSING');
    expect((err as WasiLambdaError).message).toMatch(/no `wasi-lambda:abi` custom section/);
  });

  it('rejects a component made against another version of the world, saying what differs', async () => {
    const { componentEmbed, componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools');
    const otherWit = (await readWorldWit()).replace(
      'package wasi-lambda:handler@0.2.0;',
      'package wasi-lambda:handler@0.3.0;',
    );
    // A module that imports nothing from the world, so that it can be embedded in either version.
    const core = await parse(`(module (memory (export "memory") 1)
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 8))
      (func (export "cabi_post_handle") (param i32))
      (func (export "handle") (param i32) (result i32) (i32.const 0)))`);
    const embedded = await componentEmbed({
      binary: core,
      witSource: otherWit,
      world: 'lambda-handler',
    });
    const adapter = await readFile('node_modules/@bytecodealliance/jco/lib/wasi_snapshot_preview1.reactor.wasm');
    const component = await componentNew(embedded, [['wasi_snapshot_preview1', adapter]]);
    const err = await validateComponent(component).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasiLambdaError);
    expect((err as WasiLambdaError).code).toBe('CONTRACT_MISSING');
    expect((err as WasiLambdaError).message).toContain('types@0.3.0');
  });
});
