import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildContext, outputDir } from '../build/build-handlers.js';
import { bootstrapCargoArgs } from '../build/build-native.js';
import { runCargo } from '../build/cargo.js';
import { workspacePackages } from '../build/cargo-metadata.js';
import { NATIVE_TARGET, resolveToolchain, type Toolchain } from '../build/toolchain.js';
import { WasiLambdaError } from '../errors.js';

/** The bench's native allocators: mimalloc (what a performance-minded user ships) and musl's own. */
export type Allocator = 'mimalloc' | 'musl';

/** The crate whose binary calls the handlers in-process (`wasm-handlers/bench/inprocess`). */
export const INPROCESS_PACKAGE = 'bench-inprocess';

interface WorkspacePackage {
  /** Cargo's id: the `-p` spec that names the package alone (see `HandlerPackage.id`). */
  id: string;
  features: string[];
}

/** Package name → its id and features, for the workspace's own packages (no network). */
function packagesByName(workspace: string, toolchain: Toolchain): Map<string, WorkspacePackage> {
  return new Map(
    workspacePackages(workspace, toolchain).map((p) => [p.name, { id: p.id, features: Object.keys(p.features) }]),
  );
}

/**
 * Native builds for the bench: each handler's `bootstrap` with and without its `mimalloc`
 * feature, and the in-process binary likewise, all for `x86_64-unknown-linux-musl` with the
 * release profile the `bootstrap` ships with.
 */
export class NativeBench {
  readonly #workspace: string;
  readonly #toolchain: Toolchain;
  readonly #packages: Map<string, WorkspacePackage>;
  readonly #out: string;
  readonly #built = new Map<string, string>();

  private constructor(workspace: string, toolchain: Toolchain) {
    this.#workspace = workspace;
    this.#toolchain = toolchain;
    this.#packages = packagesByName(workspace, toolchain);
    this.#out = join(outputDir(workspace), 'bench');
  }

  static open(options: { workspace?: string | undefined; install?: boolean | undefined }): NativeBench {
    const { workspace, note, install } = buildContext(options);
    return new NativeBench(workspace, resolveToolchain(NATIVE_TARGET, { install, note, workspace }));
  }

  /** Whether `pkg` can be built with mimalloc as its global allocator. */
  hasMimalloc(pkg: string): boolean {
    return this.#packages.get(pkg)?.features.includes('mimalloc') ?? false;
  }

  /** Whether the workspace has the in-process binary (this repository does; a user's project does not). */
  get hasInProcess(): boolean {
    return this.#packages.has(INPROCESS_PACKAGE);
  }

  /** The handler's `bootstrap` with the allocator, built as `wasi-lambda build --native` builds it. */
  async bootstrap(pkg: string, allocator: Allocator): Promise<string> {
    return this.#build(pkg, allocator, bootstrapCargoArgs(this.#id(pkg)));
  }

  /** The in-process binary with the allocator. */
  async inProcess(allocator: Allocator): Promise<string> {
    if (!this.hasInProcess) {
      throw new WasiLambdaError('HANDLER_NOT_FOUND', `the workspace has no ${INPROCESS_PACKAGE} package`);
    }
    const id = this.#id(INPROCESS_PACKAGE);
    return this.#build(INPROCESS_PACKAGE, allocator, ['build', '-p', id, '--bin', INPROCESS_PACKAGE]);
  }

  #id(pkg: string): string {
    const found = this.#packages.get(pkg);
    if (!found) throw new WasiLambdaError('HANDLER_NOT_FOUND', `the workspace has no package named ${pkg}`);
    return found.id;
  }

  async #build(pkg: string, allocator: Allocator, args: string[]): Promise<string> {
    const id = this.#id(pkg);
    const key = `${pkg}/${allocator}`;
    const cached = this.#built.get(key);
    if (cached) return cached;
    const features = allocator === 'mimalloc' ? ['--features', 'mimalloc'] : [];
    let executable: string | undefined;
    // A target directory of its own for the mimalloc builds: switching features back and forth
    // in one directory relinks (LTO) every time; apart, each stays cached.
    const toolchain =
      allocator === 'mimalloc'
        ? { ...this.#toolchain, targetSubdir: `${this.#toolchain.targetSubdir}/bench-mimalloc` }
        : this.#toolchain;
    await runCargo(
      toolchain,
      this.#workspace,
      [...args, ...features],
      (artifact) => {
        if (artifact.package_id !== id || !artifact.target?.crate_types?.includes('bin')) return;
        executable = artifact.executable ?? artifact.filenames?.[0];
      },
      pkg === INPROCESS_PACKAGE ? [] : ['-A', 'dead_code'],
    );
    if (executable === undefined || !existsSync(executable)) {
      throw new WasiLambdaError('BUILD_FAILED', `cargo did not report an executable for ${pkg} (${allocator})`);
    }
    // Cargo writes both allocators' builds to one path: keep a copy of each.
    const dir = join(this.#out, `native-${allocator}`, pkg);
    mkdirSync(dir, { recursive: true });
    const copy = join(dir, pkg === INPROCESS_PACKAGE ? pkg : 'bootstrap');
    copyFileSync(executable, copy);
    chmodSync(copy, 0o755);
    this.#built.set(key, copy);
    return copy;
  }
}

/** Whether a static binary links mimalloc (its symbols survive `strip` as strings in the binary). */
export function linksMimalloc(path: string): boolean {
  return readFileSync(path).includes('mimalloc');
}
