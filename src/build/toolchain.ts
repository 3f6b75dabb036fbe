import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WasiLambdaError } from '../errors.js';
import { capture } from './run.js';

/** The Rust target every handler module is compiled for. */
export const WASM_TARGET = 'wasm32-wasip1';
/** The target of the native `bootstrap` for `provided.al2023` (x86_64). */
export const NATIVE_TARGET = 'x86_64-unknown-linux-musl';
export type RustTarget = typeof WASM_TARGET | typeof NATIVE_TARGET;

const WASI_SYSROOT_LIB = '/usr/lib/wasm32-wasi';
const LLVM_LIB = '/usr/lib/llvm-14/lib';
const SHIM_SOURCE = join('support', 'fprintf_chk_shim.c');

/** Debian packages per target for the route that needs no rustup download. */
export const DEBIAN_PACKAGES: Record<RustTarget, readonly string[]> = {
  [WASM_TARGET]: ['rustc-web', 'cargo-web', 'rust-web-src', 'wasi-libc', 'lld'],
  [NATIVE_TARGET]: ['rustc-web', 'cargo-web', 'rust-web-src', 'musl-tools', 'libunwind-14-dev'],
};

/**
 * How to invoke cargo for a target. `rustup` uses an installed target as is; `debian`
 * rebuilds the standard library from `rust-web-src` (`-Zbuild-std`) and links against
 * Debian's wasi-libc or musl, for machines where rustup cannot download targets.
 */
export interface Toolchain {
  kind: 'rustup' | 'debian';
  target: RustTarget;
  cargo: string;
  /** Extra arguments for `cargo build`/`cargo rustc`. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Separate target directory per toolchain: two compilers must not share artifacts. */
  targetSubdir: string;
  /** `rustc --version` of the compiler, for the build cache key. */
  version: string;
}

export interface ResolveOptions {
  /** Allowed to run `rustup target add` and, as root on Debian, `apt-get install`. */
  install: boolean;
  /** Progress notes for the user (stderr). */
  note: (message: string) => void;
  /** Force a route; default `WASI_LAMBDA_TOOLCHAIN`, else auto-detect. */
  prefer?: 'auto' | 'rustup' | 'debian' | undefined;
  /** The Cargo workspace (the Debian musl route compiles a shim into its target dir). */
  workspace?: string | undefined;
}

function rustupHasTarget(target: string): boolean {
  const listed = capture('rustup', ['target', 'list', '--installed']);
  return listed.status === 0 && listed.stdout.split('\n').some((line) => line.trim() === target);
}

function rustcVersion(rustc: string): string | undefined {
  const result = capture(rustc, ['--version']);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function rustupToolchain(target: RustTarget): Toolchain {
  return {
    kind: 'rustup',
    target,
    cargo: 'cargo',
    args: [],
    env: { ...process.env },
    targetSubdir: 'target',
    version: rustcVersion('rustc') ?? 'rustc (unknown)',
  };
}

function debianStdSourcesPresent(): boolean {
  if (!existsSync('/usr/src')) return false;
  return readdirSync('/usr/src').some(
    (dir) => dir.startsWith('rustc-') && existsSync(`/usr/src/${dir}/library/Cargo.lock`),
  );
}

function debianReady(target: RustTarget): boolean {
  const compiler = existsSync('/usr/bin/cargo') && existsSync('/usr/bin/rustc') && debianStdSourcesPresent();
  if (!compiler) return false;
  if (target === WASM_TARGET) {
    return existsSync(`${WASI_SYSROOT_LIB}/libc.a`) && capture('wasm-ld', ['--version']).status === 0;
  }
  return existsSync(`${LLVM_LIB}/libunwind.a`) && capture('musl-gcc', ['--version']).status === 0;
}

/** Compiles the `__fprintf_chk` shim the static musl link needs; returns its directory. */
function buildShim(workspace: string): string {
  const dir = join(workspace, 'target', 'wasi-lambda', 'shim');
  mkdirSync(dir, { recursive: true });
  const object = join(dir, 'fprintf_chk_shim.o');
  const compile = capture('musl-gcc', ['-O2', '-c', join(workspace, SHIM_SOURCE), '-o', object]);
  const archive = capture('ar', ['rcs', join(dir, 'libwlshim.a'), object]);
  if (compile.status !== 0 || archive.status !== 0) {
    throw new WasiLambdaError(
      'TOOLCHAIN_MISSING',
      `cannot build the musl link shim: ${compile.stderr || archive.stderr}; is musl-tools installed?`,
    );
  }
  return dir;
}

function debianToolchain(target: RustTarget, workspace: string): Toolchain {
  const common = {
    kind: 'debian' as const,
    target,
    cargo: '/usr/bin/cargo',
    targetSubdir: 'target/debian',
    version: rustcVersion('/usr/bin/rustc') ?? 'rustc (debian, unknown)',
  };
  // ~/.cargo/bin comes first in PATH on rustup machines: pin Debian's compiler. -Zbuild-std
  // is unstable; Debian's stable compiler allows it with RUSTC_BOOTSTRAP.
  const env = { ...process.env, RUSTC: '/usr/bin/rustc', RUSTC_BOOTSTRAP: '1' };
  if (target === WASM_TARGET) {
    return {
      ...common,
      args: ['-Zbuild-std=std,panic_abort'],
      env: {
        ...env,
        CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS: `-C linker=wasm-ld -C link-self-contained=no -L ${WASI_SYSROOT_LIB}`,
      },
    };
  }
  const shim = buildShim(workspace);
  return {
    ...common,
    // The native bootstrap unwinds, so a panic becomes a Runtime.Panic error like in wasm.
    args: ['-Zbuild-std=std,panic_unwind'],
    env: {
      ...env,
      // relocation-model=static: without it the result is a PIE that asks for ld-musl.
      CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS: [
        '-C linker=musl-gcc',
        '-C link-self-contained=no',
        '-C target-feature=+crt-static',
        '-C relocation-model=static',
        `-L ${LLVM_LIB}`,
        `-L ${shim}`,
        '-l static=wlshim',
      ].join(' '),
    },
  };
}

function canAptInstall(): boolean {
  return process.getuid?.() === 0 && capture('apt-get', ['--version']).status === 0;
}

function aptInstall(packages: readonly string[], note: (message: string) => void): boolean {
  note(`installing ${packages.join(' ')} with apt-get (Debian toolchain route)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = capture('apt-get', ['update', '-qq'], env);
  if (update.status !== 0) note(`apt-get update failed: ${update.stderr.trim()}`);
  const install = capture('apt-get', ['install', '-y', '-qq', ...packages], env);
  if (install.status !== 0) note(`apt-get install failed: ${install.stderr.trim()}`);
  return install.status === 0;
}

function missing(target: RustTarget): WasiLambdaError {
  return new WasiLambdaError(
    'TOOLCHAIN_MISSING',
    `no Rust toolchain can build ${target}. Install one of:\n` +
      `  rustup target add ${target}   (any machine with rustup)\n` +
      `  sudo apt-get install ${DEBIAN_PACKAGES[target].join(' ')}   (Debian/Ubuntu, no rustup targets needed)`,
  );
}

function requireDebian(target: RustTarget, options: ResolveOptions): Toolchain {
  const workspace = options.workspace ?? 'wasm-handlers';
  if (debianReady(target)) return debianToolchain(target, workspace);
  if (options.install && canAptInstall() && aptInstall(DEBIAN_PACKAGES[target], options.note) && debianReady(target)) {
    return debianToolchain(target, workspace);
  }
  throw missing(target);
}

/**
 * Finds a way to build `target`: rustup's target if installed; else `rustup target add`;
 * else Debian's `rustc-web` with `-Zbuild-std` (installed with apt-get when running as
 * root). Throws `TOOLCHAIN_MISSING` with install instructions when nothing works.
 * `WASI_LAMBDA_TOOLCHAIN=rustup|debian` forces one route (tests use it to cover both).
 *
 * ```ts
 * const toolchain = resolveToolchain(WASM_TARGET, { install: true, note: console.error });
 * ```
 */
export function resolveToolchain(target: RustTarget, options: ResolveOptions): Toolchain {
  const forced = options.prefer ?? process.env.WASI_LAMBDA_TOOLCHAIN;
  if (forced === 'debian') return requireDebian(target, options);
  if (forced !== undefined && forced !== '' && forced !== 'rustup' && forced !== 'auto') {
    throw new WasiLambdaError('INVALID_CONFIG', `WASI_LAMBDA_TOOLCHAIN is "${forced}"; use auto, rustup or debian`);
  }
  const hasRustup = capture('rustup', ['--version']).status === 0;
  if (hasRustup && rustupHasTarget(target)) return rustupToolchain(target);
  if (hasRustup && options.install) {
    options.note(`trying: rustup target add ${target}`);
    if (capture('rustup', ['target', 'add', target]).status === 0 && rustupHasTarget(target)) {
      return rustupToolchain(target);
    }
    options.note(`rustup could not add ${target}; trying Debian's toolchain`);
  }
  if (forced === 'rustup') throw missing(target);
  return requireDebian(target, options);
}

/** The wasm32-wasip1 toolchain; see {@link resolveToolchain}. */
export function resolveWasmToolchain(options: ResolveOptions): Toolchain {
  return resolveToolchain(WASM_TARGET, options);
}
