import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../build/package-root.js';
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

/** How a Node.js task root is served: a `bootstrap` starting aws-lambda-ric, or why it cannot be. */
type RicServe = { bootstrap: string; servedBy: string } | { fallback: string };

/**
 * An executable `bootstrap` in `taskRoot` whose `#!` line starts this Node.js on
 * aws-lambda-ric's entry directly (Linux passes the rest of a `#!` line as one argument; no
 * shell in between), as Lambda's managed Node.js runtime starts a function.
 */
async function ricBootstrap(taskRoot: string, cacheDir: string): Promise<RicServe> {
  if (nodeMajor() < RIC_NODE_MAJOR) {
    return {
      fallback: `${RIC_PACKAGE} 4 needs Node.js ≥ ${RIC_NODE_MAJOR} and this bench runs on ${process.version} (every Node.js-based variant runs on the bench's own Node.js, so they compare alike); run the bench on Node.js 22 or 24 for the aws-lambda-ric baseline`,
    };
  }
  let entry: string;
  try {
    entry = await installRic(cacheDir);
  } catch (err) {
    return { fallback: (err as Error).message };
  }
  const bootstrap = join(taskRoot, 'bootstrap');
  writeFileSync(bootstrap, `#!${process.execPath} ${entry}\n`);
  chmodSync(bootstrap, 0o755);
  return { bootstrap, servedBy: `${RIC_PACKAGE} ${ricVersion(entry)} on Node.js ${process.version}` };
}

/**
 * The Node.js twin of `handler` (`baselines/node/<handler>.mjs`) as a function served by
 * aws-lambda-ric, the way Lambda's managed Node.js runtime serves a handler:
 * `_HANDLER=<handler>.handler`, `LAMBDA_TASK_ROOT` holding the handler module. For the
 * workloads twin the task root also holds `blob.bin`, the data the Rust module embeds, so
 * Node.js loads it rather than building it at load time. The AWS SDK for JavaScript comes
 * from the package's `node_modules`, as Lambda's runtime provides its own.
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
  // Lambda's Node.js runtimes ship the AWS SDK for JavaScript v3 beside the handler's code;
  // here the package's own copy (a dev dependency) plays that part.
  const modules = join(taskRoot, 'node_modules');
  rmSync(modules, { force: true });
  symlinkSync(join(packageRoot(), 'node_modules'), modules);
  return served(taskRoot, `${handler}.handler`, options);
}

/**
 * The managed entry as packaged (`build/lambda/<handler>/`: the bundle, the `.wasm`) served
 * by aws-lambda-ric like any Node.js function on Lambda, from a task root of links to the
 * package's files (the package itself stays as `package` wrote it).
 */
export async function managedOnRic(
  packageDir: string,
  options: { cacheDir: string; name: string; settings: Partial<FunctionConfig> },
): Promise<NodeBaseline> {
  const taskRoot = join(options.cacheDir, 'managed-task', options.name);
  rmSync(taskRoot, { recursive: true, force: true });
  mkdirSync(taskRoot, { recursive: true });
  for (const file of readdirSync(packageDir)) symlinkSync(resolve(packageDir, file), join(taskRoot, file));
  return served(taskRoot, 'handler.handler', options);
}

async function served(
  taskRoot: string,
  handler: string,
  options: { cacheDir: string; settings: Partial<FunctionConfig> },
): Promise<NodeBaseline> {
  const base = { ...FUNCTION_DEFAULTS, ...options.settings, name: 'node', maxConcurrency: 1 };
  const ric = await ricBootstrap(taskRoot, options.cacheDir);
  if ('fallback' in ric) {
    return {
      fn: { ...base, kind: 'node', code: taskRoot, handler },
      servedBy: `the project's own runtime client on Node.js ${process.version}`,
      fallback: ric.fallback,
    };
  }
  return { fn: { ...base, kind: 'native', code: ric.bootstrap, handler }, servedBy: ric.servedBy };
}
