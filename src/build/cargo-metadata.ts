import { resolve } from 'node:path';
import { WasiLambdaError } from '../errors.js';
import { capture } from './run.js';
import type { Toolchain } from './toolchain.js';

/** A workspace package as `cargo metadata --no-deps` describes it (the fields read here). */
export interface WorkspacePackageMetadata {
  /** Cargo's id: the `-p` spec that names the package alone (see `HandlerPackage.id`). */
  id: string;
  name: string;
  targets: { name: string; crate_types: string[] }[];
  features: Record<string, string[]>;
}

/**
 * The workspace's own packages, from `cargo metadata --no-deps` (no network), read from the
 * manifest path `runCargo` gives cargo, so that their ids are the ones it accepts.
 *
 * ```ts
 * const names = workspacePackages('wasm-handlers', toolchain).map((p) => p.name);
 * ```
 */
export function workspacePackages(
  workspace: string,
  toolchain: Pick<Toolchain, 'cargo' | 'env'>,
): WorkspacePackageMetadata[] {
  const result = capture(
    toolchain.cargo,
    [
      'metadata',
      '--no-deps',
      '--format-version',
      '1',
      '--offline',
      '--manifest-path',
      resolve(workspace, 'Cargo.toml'),
    ],
    toolchain.env,
  );
  if (result.status !== 0) {
    throw new WasiLambdaError('BUILD_FAILED', `cargo metadata failed: ${result.stderr.trim()}`);
  }
  return (JSON.parse(result.stdout) as { packages: WorkspacePackageMetadata[] }).packages;
}

/** A handler crate: a workspace package with a `cdylib` library. */
export interface HandlerPackage {
  name: string;
  /** The library target's name (`http_api` for package `http-api`). */
  libName: string;
  /**
   * Cargo's id of the package (`path+file:///…/examples/hello#0.1.0`): the `-p` spec that names
   * it alone. Its name would not when a dependency shares it (a handler called `http` or `url`).
   */
  id: string;
}

/** The workspace's handler crates, from `cargo metadata` (no network). */
export function handlerPackages(workspace: string, toolchain: Pick<Toolchain, 'cargo' | 'env'>): HandlerPackage[] {
  return workspacePackages(workspace, toolchain).flatMap((pkg) => {
    const lib = pkg.targets.find((target) => target.crate_types.includes('cdylib'));
    return lib ? [{ name: pkg.name, libName: lib.name, id: pkg.id }] : [];
  });
}
