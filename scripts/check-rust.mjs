// Rust checks for the handler workspace: formatting, clippy (host, and wasm32-wasip1 when
// rustup has that target), and the SDK's unit and doc tests.
import { spawnSync } from 'node:child_process';

const cwd = 'wasm-handlers';

function step(args) {
  process.stderr.write(`\n$ cargo ${args.join(' ')}\n`);
  const result = spawnSync('cargo', args, { cwd, stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(`cargo is not available (${result.error.message}); install Rust with rustup.\n`);
    process.exit(1);
  }
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const installed = spawnSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' });
const hasWasmTarget = installed.status === 0 && installed.stdout.split('\n').includes('wasm32-wasip1');

step(['fmt', '--all', '--check']);
step(['clippy', '--workspace', '--all-targets', '--', '-D', 'warnings']);
if (hasWasmTarget) step(['clippy', '--workspace', '--target', 'wasm32-wasip1', '--', '-D', 'warnings']);
else
  process.stderr.write('rustup has no wasm32-wasip1 target: the ABI glue was linted on the host only (cfg(clippy)).\n');
step(['test', '--workspace']);
