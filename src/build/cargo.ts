import { resolve } from 'node:path';
import { WasiLambdaError } from '../errors.js';
import { withProgress } from './progress.js';
import { stream } from './run.js';
import type { Toolchain } from './toolchain.js';

/** The part of cargo's `compiler-artifact` JSON message this project reads. */
export interface CargoArtifact {
  reason?: string;
  package_id?: string;
  target?: { name?: string; crate_types?: string[] };
  filenames?: string[];
  executable?: string | null;
}

/** `path+file:///…/examples/http-api#0.1.0` or `…#http-api@0.1.0` → `http-api`. */
export function packageName(packageId: string): string | undefined {
  const fragment = packageId.split('#').at(-1) ?? '';
  if (fragment.includes('@')) return fragment.split('@')[0];
  return packageId.split('#')[0]?.split('/').at(-1);
}

/**
 * Runs a cargo subcommand for the toolchain's target with JSON messages, passing the
 * human-readable diagnostics through to stderr and each artifact to `onArtifact`.
 */
export async function runCargo(
  toolchain: Toolchain,
  workspace: string,
  args: readonly string[],
  onArtifact: (artifact: CargoArtifact) => void,
  rustcArgs: readonly string[] = [],
): Promise<void> {
  const full = [
    ...args,
    // The manifest as `cargo metadata` was given it: run from `cwd` alone, cargo would resolve
    // a symlinked workspace to its real path, and the package ids `-p` names would not match.
    '--manifest-path',
    resolve(workspace, 'Cargo.toml'),
    '--release',
    '--target',
    toolchain.target,
    '--target-dir',
    toolchain.targetSubdir,
    '--message-format=json-render-diagnostics',
    ...toolchain.args,
    ...(rustcArgs.length > 0 ? ['--', ...rustcArgs] : []),
  ];
  // `cargo rustc -p <handler>` runs once per handler: say which one.
  const what = args[0] === 'rustc' && args[1] === '-p' ? `rustc -p ${packageName(args[2] ?? '')}` : args[0];
  const label = `cargo ${what} --target ${toolchain.target} (${workspace})`;
  const status = await withProgress(label, () =>
    stream(toolchain.cargo, full, {
      cwd: workspace,
      env: toolchain.env,
      onStdoutLine(line) {
        if (!line.startsWith('{')) return;
        const message = JSON.parse(line) as CargoArtifact;
        if (message.reason === 'compiler-artifact') onArtifact(message);
      },
    }),
  );
  if (status !== 0) {
    throw new WasiLambdaError(
      'BUILD_FAILED',
      `cargo ${what} for ${toolchain.target} failed (exit ${status}); see the compiler output above`,
    );
  }
}
