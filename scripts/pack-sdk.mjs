// Writes sdk/wasi-lambda and sdk/wasi-lambda-macros: the SDK crates exactly as `cargo package`
// makes them for crates.io (workspace fields resolved), so a project made by `wasi-lambda new`
// can use them from node_modules/wasi-lambda/sdk before they are published. Runs at prepack.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CRATES = ['wasi-lambda-macros', 'wasi-lambda'];
const version = JSON.parse(
  spawnSync(
    'cargo',
    ['metadata', '--no-deps', '--format-version', '1', '--manifest-path', 'wasm-handlers/Cargo.toml'],
    {
      encoding: 'utf8',
    },
  ).stdout,
).packages.find((pkg) => pkg.name === 'wasi-lambda').version;

const targetDir = mkdtempSync(join(tmpdir(), 'wasi-lambda-sdk-'));
const packed = spawnSync(
  'cargo',
  ['package', ...CRATES.flatMap((c) => ['-p', c]), '--allow-dirty', '--no-verify', '--target-dir', targetDir],
  { cwd: 'wasm-handlers', stdio: ['ignore', 'inherit', 'inherit'] },
);
if (packed.status !== 0) process.exit(packed.status ?? 1);

for (const crate of CRATES) {
  const dir = join('sdk', crate);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = join(targetDir, 'package', `${crate}-${version}.crate`);
  const untar = spawnSync('tar', ['xzf', archive, '-C', dir, '--strip-components=1'], { stdio: 'inherit' });
  if (untar.status !== 0) process.exit(untar.status ?? 1);
  // A library's lock file is not used by its dependents; only the manifest and sources matter.
  rmSync(join(dir, 'Cargo.lock'), { force: true });
}
rmSync(targetDir, { recursive: true, force: true });
process.stdout.write(`sdk/: ${CRATES.map((c) => `${c} ${version}`).join(', ')}\n`);
