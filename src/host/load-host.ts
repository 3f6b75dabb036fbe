import { readFileSync } from 'node:fs';
import type { AwsConfig } from '../aws/aws-config.js';
import { toError, WasiLambdaError } from '../errors.js';
import type { OutboundClientOptions } from '../outbound/client.js';
import { type EgressPolicy, NO_EGRESS } from '../outbound/egress-policy.js';
import { checkContract } from './abi.js';
import { compileGuest } from './compile.js';
import type { FunctionHost } from './function-host.js';
import type { GuestWorkerData } from './guest-worker.js';
import { WasmHost, type WasmHostOptions } from './wasm-host.js';

/** What runs: a core module built by the SDK, or the component made from it by `jco`. */
export type GuestSource = { kind: 'core'; path: string } | { kind: 'component'; dir: string };

/**
 * Where the guest runs. `worker` (the default, except in the raw-bytes runtime client) runs it
 * on a worker thread that is terminated at the deadline, so a guest that never returns cannot
 * outlast its invocation; `inline` runs it on the calling thread, for in-process measurements,
 * embedding, and a process that is itself the execution environment (the raw runtime client,
 * whose platform ends it at the deadline).
 */
export type Isolation = 'worker' | 'inline';

export interface HostConfig {
  guest: GuestSource;
  options: Omit<WasmHostOptions, 'logSink'>;
  isolation: Isolation;
  /** `worker`: the file descriptor log lines are written to (1: stdout, which CloudWatch reads). */
  logFd?: number | undefined;
  /** `inline`: where log lines go (default: fd 1). */
  logSink?: ((line: string) => void) | undefined;
  /** `worker`: the worker bundle, when it is not `guest-worker.mjs` beside the calling bundle. */
  workerUrl?: URL | string | undefined;
  /**
   * `worker`: where the guest's outbound HTTP may go (`parseAllowHosts`); default nowhere. An
   * `inline` guest cannot make outbound calls (`Unsupported`): it blocks the thread that would.
   */
  allowHosts?: EgressPolicy | undefined;
  /** `worker`: CAs trusted for the guest's HTTPS instead of Node's default store (tests, private CAs). */
  outboundCa?: OutboundClientOptions['ca'];
  /** `worker`: AWS services the guest may call, signed by the host (`awsConfig`); default none. */
  aws?: AwsConfig | undefined;
}

async function compileCore(path: string, maxMemoryPages: number | undefined): Promise<WebAssembly.Module> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    // Read synchronously: this is the init phase, with nothing else to run meanwhile, and
    // the promise API's open/stat/read/close round trips through libuv's thread pool
    // showed up as milliseconds of a cold start.
    bytes = readFileSync(path);
  } catch (err) {
    throw new WasiLambdaError('HANDLER_NOT_FOUND', `cannot read ${path}: ${toError(err).message}`, { cause: err });
  }
  const module = await compileGuest(bytes, maxMemoryPages);
  checkContract(module);
  return module;
}

/**
 * The one host factory: every entry (managed handler, raw runtime client, CLI, emulator,
 * bench) loads its guest here, so every one of them gets the same WASI layer, limits and
 * isolation for the same configuration. Resolves once the guest is initialised (Lambda's init
 * phase); an init failure rejects with a typed `WasiLambdaError`.
 *
 * ```ts
 * const host = await loadHost({ guest: { kind: 'core', path: 'handler.wasm' }, options: {}, isolation: 'worker', logFd: 1 });
 * const outcome = await host.invoke(eventBytes, ctx);
 * ```
 */
export async function loadHost(config: HostConfig): Promise<FunctionHost> {
  const { guest, options } = config;
  // The component host, the worker and the outbound bridge (with `node:http`, `node:crypto` and
  // the AWS signer behind it) are imported when a configuration uses them: a bundle split at
  // these imports starts an inline core guest without loading any of them.
  if (config.isolation === 'inline') {
    const inline = { ...options, logSink: config.logSink };
    if (guest.kind === 'component') {
      const { ComponentHost } = await import('../component/component-host.js');
      return ComponentHost.fromDir(guest.dir, inline);
    }
    return WasmHost.create(await compileCore(guest.path, options.maxMemoryPages), inline);
  }
  const [{ IsolatedHost }, { HttpBridge }] = await Promise.all([
    import('./isolated-host.js'),
    import('./http-bridge.js'),
  ]);
  // The module is compiled here, once, and shared with every worker this host starts: a
  // worker replaced after a timeout instantiates it without compiling again. The first worker
  // starts while it compiles.
  const workerGuest: Promise<GuestWorkerData['guest']> =
    guest.kind === 'component'
      ? Promise.resolve({ kind: 'component', dir: guest.dir })
      : compileCore(guest.path, options.maxMemoryPages).then((module) => ({ kind: 'core', module }));
  return IsolatedHost.create({
    data: workerGuest.then((g) => ({ guest: g, options, logFd: config.logFd ?? 1 })),
    workerUrl: config.workerUrl,
    http: new HttpBridge({ policy: config.allowHosts ?? NO_EGRESS, ca: config.outboundCa, aws: config.aws }),
  });
}
