#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { VARIANTS } from '../bench/report.js';
import { WORKLOADS } from '../bench/workloads.js';
import { DEFAULT_WORKSPACE } from '../build/build-handlers.js';
import { FUNCTION_KINDS } from '../emulator/function-config.js';
import { BACKENDS } from '../lambda/host-config.js';
import { TEMPLATES } from '../scaffold/templates.js';
import { VERSION } from '../version.js';
import { action } from './action.js';
import { benchCommand, benchCompareCommand } from './commands/bench.js';
import { buildCommand } from './commands/build.js';
import { invokeCommand } from './commands/invoke.js';
import { newCommand } from './commands/new.js';
import { packageCommand } from './commands/package.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { watchCommand } from './commands/watch.js';

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const program = new Command('wasi-lambda')
  .description('Build Rust Lambda handlers to wasm32-wasip1 and run them the way AWS Lambda does.')
  .version(VERSION);

program
  .command('new <name>')
  .description('write a standalone handler project: crate, package.json, serverless.yml, sample events, a test')
  .addOption(new Option('--template <template>', 'what the handler starts as').choices(TEMPLATES).default('basic'))
  .option('--package-spec <spec>', 'the wasi-lambda dev dependency (default: file: this package)')
  .action(action(newCommand));

program
  .command('build')
  .description('compile every handler crate in the workspace to wasm32-wasip1 (or a native bootstrap)')
  .option('-w, --workspace <dir>', 'Cargo workspace with the handlers', DEFAULT_WORKSPACE)
  .option('--native', 'build static x86_64-unknown-linux-musl `bootstrap` executables and zips instead')
  .option('--component', 'build WebAssembly components (jco new, validated against the WIT world) and transpile them')
  .option('-f, --force', 'rebuild even if the sources are unchanged')
  .option('--no-install', 'never install a toolchain (rustup target add / apt-get)')
  .action(action(buildCommand));

program
  .command('package')
  .description('write Lambda deployment zips to build/lambda/: Node.js (bundle + .wasm) and native (bootstrap)')
  .option('-w, --workspace <dir>', 'Cargo workspace with the handlers', DEFAULT_WORKSPACE)
  .option('--no-native', 'skip the native provided.al2023 packages')
  .option('--no-install', 'never install a toolchain (rustup target add / apt-get)')
  .action(action(packageCommand));

program
  .command('invoke')
  .description('invoke a handler once, locally: response on stdout, logs and REPORT on stderr')
  .option(
    '-H, --handler <name|file.wasm>',
    "handler package in the workspace, or a .wasm file (default: the workspace's only handler, else hello)",
  )
  .option('-e, --event <file|->', 'JSON event file, or - for stdin (default: {})')
  .option('--data-example <name>', 'send a sample event of an AWS event source (sqs, apigw-http, …; list: the names)')
  .option('-w, --workspace <dir>', 'Cargo workspace with the handlers', DEFAULT_WORKSPACE)
  .addOption(new Option('--backend <backend>', 'run the core module or the component').choices(BACKENDS))
  .addOption(
    new Option('--log-format <format>', 'Lambda log format (default: $AWS_LAMBDA_LOG_FORMAT or text)').choices([
      'text',
      'json',
      'Text',
      'JSON',
    ]),
  )
  .option('-m, --memory <mb>', 'memory size in MB', positiveInt, 128)
  .option('-t, --timeout <seconds>', 'function timeout in seconds', positiveInt, 3)
  .option('--function-name <name>', 'function name (default: the handler name)')
  .option('--env <KEY=VALUE>', 'grant the guest an environment variable (repeatable)', collect, [])
  .option('--tmp <mb>', 'grant the guest an in-memory /tmp of this many MB', positiveInt)
  .option(
    '--allow-host <host[:port]>',
    'grant outbound HTTP to host (ports 80, 443), host:port, *.suffix or an IP address (repeatable)',
    collect,
    [],
  )
  .option('--no-install', 'never install a toolchain (rustup target add / apt-get)')
  .addOption(
    new Option(
      '--target <kind>',
      'run through the local emulator as wasm, native bootstrap, or the Node.js baseline',
    ).choices(FUNCTION_KINDS),
  )
  .action(action(invokeCommand));

program
  .command('serve')
  .description('emulate Lambda locally: the Invoke API, and each function as wasm, native and Node.js')
  .option('-w, --workspace <dir>', 'Cargo workspace with the handlers', DEFAULT_WORKSPACE)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('-p, --port <port>', 'port to listen on (0: any free port)', (v) => Number(v), 9000)
  .option('-m, --memory <mb>', 'memory size in MB for every function', positiveInt, 128)
  .option('-t, --timeout <seconds>', 'timeout in seconds for every function', positiveInt, 3)
  .option('-c, --concurrency <n>', 'execution environments per function at most', positiveInt, 4)
  .addOption(new Option('--log-format <format>', 'Lambda log format').choices(['text', 'json', 'Text', 'JSON']))
  .option('--config <file>', 'functions to serve, as JSON (default: ./wasi-lambda.json if present)')
  .addOption(new Option('--kinds <kind...>', 'which kinds of function to serve').choices(FUNCTION_KINDS))
  .option('--no-install', 'never install a toolchain (rustup target add / apt-get)')
  .action(action(serveCommand));

program
  .command('watch')
  .description('serve the handlers on the emulator; on every source change rebuild and swap in the new module')
  .option('-w, --workspace <dir>', 'Cargo workspace with the handlers', DEFAULT_WORKSPACE)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('-p, --port <port>', 'port to listen on (0: any free port)', (v) => Number(v), 9000)
  .option('-m, --memory <mb>', 'memory size in MB for every function', positiveInt, 128)
  .option('-t, --timeout <seconds>', 'timeout in seconds for every function', positiveInt, 3)
  .addOption(new Option('--log-format <format>', 'Lambda log format').choices(['text', 'json', 'Text', 'JSON']))
  .option('--no-install', 'never install a toolchain (rustup target add / apt-get)')
  .action(action(watchCommand));

program
  .command('run <file.wasm> [args...]')
  .description(
    "run a WASI preview1 command (_start) on wasi-lambda's own WASI layer, with only the given dirs and env; exits with its status",
  )
  .option(
    '--dir <host::guest>',
    'copy a host directory into memory, preopened at a guest path (repeatable; the host copy is never written)',
    collect,
    [],
  )
  .option('--env <KEY=VALUE>', 'set a variable in the guest (repeatable)', collect, [])
  .action(action(runCommand));

const bench = program
  .command('bench')
  .description(
    "benchmark wasm (raw, fresh, managed, component), native (mimalloc, musl's malloc) and Node.js (aws-lambda-ric) side by side: client latency, REPORT Duration and in-process cost, and the targets; in a project made by `new`, its own handlers on its events/. Writes JSON, Markdown and SVG",
  )
  .option('-q, --quick', 'a short run with fewer samples')
  .option('-o, --out <dir>', 'where reports go', 'bench-results')
  .addOption(new Option('--variants <variant...>', 'variants to run').choices(VARIANTS))
  .addOption(new Option('--workloads <workload...>', 'workloads to run').choices(WORKLOADS))
  .option('-w, --workspace <dir>', 'Cargo workspace with the handlers', DEFAULT_WORKSPACE)
  .option('--no-install', 'never install a toolchain (rustup target add / apt-get)')
  .option('--deployed', 'invoke deployed functions through the AWS SDK instead of the local emulator')
  .option('--function <variant=name>', 'with --deployed: a deployed function per variant (repeatable)', collect, [])
  .option('--region <region>', 'with --deployed: AWS region (default $AWS_REGION)')
  .option('--endpoint <url>', 'with --deployed: a Lambda-compatible endpoint other than AWS')
  .action(action(benchCommand));

bench
  .command('compare <a.json> <b.json>')
  .description('put two reports side by side (machines, architectures, deployed vs local)')
  .option('-o, --out <file>', 'also write the Markdown table to a file')
  .action(action(benchCompareCommand));

await program.parseAsync();
