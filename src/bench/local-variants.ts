import { join, resolve } from 'node:path';
import { outputDir } from '../build/build-handlers.js';
import { packageLambdaFunctions } from '../build/lambda-packages.js';
import { localFunction } from '../build/local-functions.js';
import { FUNCTION_DEFAULTS, type FunctionConfig } from '../emulator/function-config.js';
import type { NativeBench } from './native-variants.js';
import { managedOnRic, type NodeBaseline, nodeBaseline } from './node-baseline.js';
import type { VariantName } from './report.js';

/** The benchmark's main handler crate, and its Node.js twin. */
export const BENCH_HANDLER = 'workloads';

/** One variant of one handler as an emulator function, or why it does not run. */
export type Variant = { fn: FunctionConfig; node?: NodeBaseline | undefined } | { skipped: string };

export interface VariantOptions {
  workspace: string;
  install?: boolean | undefined;
  native: NativeBench;
  /** Where the Node.js twins live (`baselines/node` in this repository). */
  baselines: string;
  /** The function's own environment (an egress grant, an endpoint). */
  environment: Record<string, string>;
}

/**
 * Builds `handler` as `variant` and describes it as an emulator function: the same code paths
 * a deployed function takes. The native rows are the `bootstrap` with mimalloc (`native`) and
 * with musl's malloc (`native-musl`); a handler without a `mimalloc` feature has only the
 * latter, shown as `native`.
 */
export async function variantFunction(
  variant: VariantName,
  handler: string,
  options: VariantOptions,
): Promise<Variant> {
  const settings = { memoryMb: 1024, timeoutSeconds: 60, environment: options.environment };
  const local = { workspace: options.workspace, install: options.install, overrides: settings };
  const named = (fn: FunctionConfig): FunctionConfig => ({ ...fn, name: variant, maxConcurrency: 1 });
  switch (variant) {
    case 'wasm-raw':
      return { fn: named(await localFunction(handler, 'wasm', local)) };
    case 'wasm-fresh':
      return {
        fn: named(
          await localFunction(handler, 'wasm', {
            ...local,
            overrides: { ...settings, environment: { ...options.environment, WASI_LAMBDA_INSTANCE: 'fresh' } },
          }),
        ),
      };
    case 'wasm-component':
      return { fn: named(await localFunction(handler, 'wasm', { ...local, backend: 'component' })) };
    case 'wasm-managed': {
      // The managed entry exactly as deployed: the packaged bundle and .wasm, called as
      // handler(event, context) by a Node.js runtime that parses and serialises JSON.
      // On Node.js 22+ aws-lambda-ric serves it, as Lambda's managed runtime does.
      await packageLambdaFunctions({ workspace: options.workspace, install: options.install, native: false });
      const managed = await managedOnRic(resolve('build', 'lambda', handler), {
        cacheDir: join(outputDir(options.workspace), 'bench'),
        name: handler,
        settings,
      });
      return { fn: named(managed.fn), node: managed };
    }
    case 'native':
    case 'native-musl': {
      const mimalloc = options.native.hasMimalloc(handler);
      if (variant === 'native-musl' && !mimalloc) {
        return { skipped: `${handler} has no \`mimalloc\` feature: its one native build is the \`native\` row` };
      }
      const allocator = variant === 'native' && mimalloc ? 'mimalloc' : 'musl';
      const bootstrap = await options.native.bootstrap(handler, allocator);
      return { fn: named({ ...FUNCTION_DEFAULTS, ...settings, name: variant, kind: 'native', code: bootstrap }) };
    }
    case 'node': {
      const node = await nodeBaseline(handler, {
        baselines: options.baselines,
        cacheDir: join(outputDir(options.workspace), 'bench'),
        settings,
      });
      if (!node) return { skipped: `no Node.js twin of ${handler} (${options.baselines}/${handler}.mjs)` };
      return { fn: named(node.fn), node };
    }
  }
}
