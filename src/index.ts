/**
 * wasi-lambda as a library: the same functions the CLI runs.
 *
 * ```ts
 * import { invokeLocal } from 'wasi-lambda';
 * const { outcome } = await invokeLocal({ handler: 'hello', event: Buffer.from('{}') });
 * ```
 * @module
 */

export { type SoakResult, type SoakSample, soak } from './bench/soak.js';
export { type BuildOptions, type BuildResult, buildHandlers } from './build/build-handlers.js';
export { buildNative, type NativeArtifact, type NativeBuildResult } from './build/build-native.js';
export {
  NATIVE_TARGET,
  resolveToolchain,
  resolveWasmToolchain,
  type Toolchain,
  WASM_TARGET,
} from './build/toolchain.js';
export { buildComponents, type ComponentArtifact, validateComponent } from './component/build-components.js';
export { ComponentHost } from './component/component-host.js';
export { componentize } from './component/componentize.js';
export { Emulator, type EmulatorOptions } from './emulator/emulator.js';
export { FUNCTION_DEFAULTS, type FunctionConfig, type FunctionKind } from './emulator/function-config.js';
export { type ErrorCode, WasiLambdaError } from './errors.js';
export { type InvokeLocalOptions, type InvokeLocalResult, invokeLocal } from './local/invoke-local.js';
export { formatLogLine, type LogFormat } from './logging/log-format.js';
// Everything of the Lambda side (`wasi-lambda/runtime`), so the library is its superset.
export * from './runtime-exports.js';
export { VERSION } from './version.js';
