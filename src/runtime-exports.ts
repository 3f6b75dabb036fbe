/**
 * `wasi-lambda/runtime`: only what runs on AWS Lambda — the host, the WASI layer, the
 * managed-runtime entry's helpers and the raw Runtime API client. Nothing here loads the
 * tooling (cargo, the emulator, bench, the CLI, jco's CLI, esbuild, binaryen, the Lambda
 * client), so a bundle of a custom entry stays as small as the shipped one.
 *
 * ```ts
 * import { fromNodeContext, hostConfig, loadHost } from 'wasi-lambda/runtime';
 * const host = await loadHost(hostConfig(process.env, import.meta.url));
 * export const handler = async (event, context) =>
 *   host.invoke(new TextEncoder().encode(JSON.stringify(event)), fromNodeContext(context, process.env));
 * ```
 * @module
 */

export {
  type FunctionIdentity,
  fromNodeContext,
  functionIdentity,
  type InvokeContext,
  invokeContext,
  type NodeLambdaContext,
  type RequestFacts,
} from './host/context.js';
export type { FunctionHost } from './host/function-host.js';
export { GuestInitError } from './host/init-error.js';
export { IsolatedHost } from './host/isolated-host.js';
export { type GuestSource, type HostConfig, type Isolation, loadHost } from './host/load-host.js';
export { guestMemoryPages } from './host/memory-limit.js';
export {
  type InstanceMode,
  type InvokeOutcome,
  type LambdaErrorBody,
  type TmpGrant,
  WasmHost,
  type WasmHostOptions,
} from './host/wasm-host.js';
export { guestEnvironment } from './lambda/guest-env.js';
export { type Backend, hostConfig, hostOptions } from './lambda/host-config.js';
export { type NextInvocation, RuntimeApiClient } from './runtime/runtime-api-client.js';
