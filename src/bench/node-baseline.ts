import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { withProgress } from '../build/progress.js';
import { FUNCTION_DEFAULTS, type FunctionConfig } from '../emulator/function-config.js';
import { WasiLambdaError } from '../errors.js';
import { blobBytes } from './workloads.js';

/** AWS's runtime interface client for Node.js: what Lambda's managed runtime runs before a handler. */
export const RIC_PACKAGE = 'aws-lambda-ric';
export const RIC_RANGE = '^4.0.0';
/** aws-lambda-ric 4 requires it (`engines`). */
const RIC_NODE_MAJOR = 22;

/** The Node.js baseline as the bench runs it, and how. */
export interface NodeBaseline {
  fn: FunctionConfig;
  /** e.g. `aws-lambda-ric 4.0.2 on Node.js v22.23.3`. */
  servedBy: string;
  /** Why the project's own runtime client serves it instead of aws-lambda-ric, if it does. */
  fallback?: string | undefined;
}

function nodeMajor(): number {
  return Number(process.versions.node.split('.')[0]);
}

/**
 * Installs aws-lambda-ric into the bench's cache (once): a bench-only tool, never a
 * dependency of the package nor part of a Lambda bundle. Its install compiles a native addon
 * (curl and aws-lambda-cpp with cmake and g++, then node-gyp): about a minute.
 */
export async function installRic(cacheDir: string): Promise<string> {
  const dir = join(cacheDir, RIC_PACKAGE);
  const entry = join(dir, 'node_modules', RIC_PACKAGE, 'index.mjs');
  const addon = join(dir, 'node_modules', RIC_PACKAGE, 'rapid-client.node');
  if (existsSync(entry) && existsSync(addon)) return entry;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
  const npm = join(dirname(process.execPath), 'npm');
  const result = await withProgress(`installing ${RIC_PACKAGE}@${RIC_RANGE} for the Node.js baseline`, async () =>
    spawnSync(
      existsSync(npm) ? npm : 'npm',
      ['install', '--no-audit', '--no-fund', '--no-save', `${RIC_PACKAGE}@${RIC_RANGE}`],
      {
        cwd: dir,
        encoding: 'utf8',
        // node-gyp builds the addon against this Node.js's own headers.
        env: {
          ...process.env,
          PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
          npm_config_nodedir: resolve(dirname(process.execPath), '..'),
        },
      },
    ),
  );
  if (result.status !== 0 || !existsSync(addon)) {
    throw new WasiLambdaError(
      'TOOLCHAIN_MISSING',
      `npm install ${RIC_PACKAGE} failed (it needs cmake, make, g++ and autoconf to build its addon): ${(result.stderr ?? '').trim().slice(-800)}`,
    );
  }
  return entry;
}

function ricVersion(entry: string): string {
  const manifest = JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/**
 * The Node.js twin of `handler` (`baselines/node/<handler>.mjs`) as a function served by
 * aws-lambda-ric, the way Lambda's managed Node.js runtime serves a handler: an executable
 * `bootstrap` whose `#!` line starts this Node.js on the client directly (no shell in
 * between), `_HANDLER=<handler>.handler`, `LAMBDA_TASK_ROOT` holding the handler module. For
 * the workloads twin the task root also holds `blob.bin`, the data the Rust module embeds, so
 * Node.js loads it rather than building it at load time.
 *
 * On a Node.js older than aws-lambda-ric supports, or when it cannot be installed, the
 * project's own client serves the twin instead and `fallback` says why.
 */
export async function nodeBaseline(
  handler: string,
  options: { baselines: string; cacheDir: string; settings: Partial<FunctionConfig> },
): Promise<NodeBaseline | undefined> {
  const source = join(options.baselines, `${handler}.mjs`);
  if (!existsSync(source)) return undefined;
  const taskRoot = join(options.cacheDir, 'node-task', handler);
  mkdirSync(taskRoot, { recursive: true });
  copyFileSync(source, join(taskRoot, `${handler}.mjs`));
  if (handler === 'workloads') writeFileSync(join(taskRoot, 'blob.bin'), blobBytes());
  const base = { ...FUNCTION_DEFAULTS, ...options.settings, name: 'node', maxConcurrency: 1 };
  const own = (fallback: string): NodeBaseline => ({
    fn: { ...base, kind: 'node', code: taskRoot, handler: `${handler}.handler` },
    servedBy: `the project's own runtime client on Node.js ${process.version}`,
    fallback,
  });
  if (nodeMajor() < RIC_NODE_MAJOR) {
    return own(
      `${RIC_PACKAGE} 4 needs Node.js ≥ ${RIC_NODE_MAJOR} and this bench runs on ${process.version} (every Node.js-based variant runs on the bench's own Node.js, so they compare alike); run the bench on Node.js 22 or 24 for the aws-lambda-ric baseline`,
    );
  }
  let entry: string;
  try {
    entry = await installRic(options.cacheDir);
  } catch (err) {
    return own((err as Error).message);
  }
  const bootstrap = join(taskRoot, 'bootstrap');
  // Linux passes the rest of a `#!` line as one argument: node runs the client's entry.
  writeFileSync(bootstrap, `#!${process.execPath} ${entry}\n`);
  chmodSync(bootstrap, 0o755);
  return {
    fn: { ...base, kind: 'native', code: bootstrap, handler: `${handler}.handler` },
    servedBy: `${RIC_PACKAGE} ${ricVersion(entry)} on Node.js ${process.version}`,
  };
}
