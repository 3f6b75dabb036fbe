import { existsSync, readdirSync } from 'node:fs';
import { WasiLambdaError } from '../errors.js';
import { capture } from './run.js';

/** The Rust target every handler is compiled for. */
export const WASM_TARGET = 'wasm32-wasip1';

/** Debian packages that provide a wasm32-wasip1-capable Rust without rustup's servers. */
export const DEBIAN_PACKAGES = ['rustc-web', 'cargo-web', 'rust-web-src', 'wasi-libc', 'lld'] as const;
const WASI_SYSROOT_LIB = '/usr/lib/wasm32-wasi';

/**
 * How to invoke cargo for a target. `rustup` uses an installed target as is; `debian`
 * rebuilds the standard library from `rust-web-src` (`-Zbuild-std`) and links against
 * Debian's wasi-libc, for machines where rustup cannot download targets.
 */
export interface Toolchain {
  kind: 'rustup' | 'debian';
  cargo: string;
  /** Extra arguments for `cargo build`. */
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
}

function rustupHasTarget(target: string): boolean {
  const listed = capture('rustup', ['target', 'list', '--installed']);
  return listed.status === 0 && listed.stdout.split('\n').some((line) => line.trim() === target);
}

function rustcVersion(rustc: string): string | undefined {
  const result = capture(rustc, ['--version']);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function rustupToolchain(): Toolchain {
  return {
    kind: 'rustup',
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

function debianToolchainPresent(): boolean {
  return (
    existsSync('/usr/bin/cargo') &&
    existsSync('/usr/bin/rustc') &&
    existsSync(`${WASI_SYSROOT_LIB}/libc.a`) &&
    debianStdSourcesPresent() &&
    capture('wasm-ld', ['--version']).status === 0
  );
}

function debianToolchain(): Toolchain {
  return {
    kind: 'debian',
    cargo: '/usr/bin/cargo',
    args: ['-Zbuild-std=std,panic_abort'],
    env: {
      ...process.env,
      // ~/.cargo/bin comes first in PATH on rustup machines: pin Debian's compiler.
      RUSTC: '/usr/bin/rustc',
      // -Zbuild-std is unstable; Debian's stable compiler allows it with this switch.
      RUSTC_BOOTSTRAP: '1',
      CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS: `-C linker=wasm-ld -C link-self-contained=no -L ${WASI_SYSROOT_LIB}`,
    },
    targetSubdir: 'target/debian',
    version: rustcVersion('/usr/bin/rustc') ?? 'rustc (debian, unknown)',
  };
}

function canAptInstall(): boolean {
  return process.getuid?.() === 0 && capture('apt-get', ['--version']).status === 0;
}

function aptInstall(note: (message: string) => void): boolean {
  note(`installing ${DEBIAN_PACKAGES.join(' ')} with apt-get (Debian route to ${WASM_TARGET})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = capture('apt-get', ['update', '-qq'], env);
  if (update.status !== 0) note(`apt-get update failed: ${update.stderr.trim()}`);
  const install = capture('apt-get', ['install', '-y', '-qq', ...DEBIAN_PACKAGES], env);
  if (install.status !== 0) note(`apt-get install failed: ${install.stderr.trim()}`);
  return install.status === 0;
}

/**
 * Finds a way to build `wasm32-wasip1`: rustup's target if installed; else `rustup target
 * add`; else Debian's `rustc-web` with `-Zbuild-std` (installed with apt-get when running as
 * root). Throws `TOOLCHAIN_MISSING` with install instructions when nothing works.
 * `WASI_LAMBDA_TOOLCHAIN=rustup|debian` forces one route (tests use it to cover both).
 *
 * ```ts
 * const toolchain = resolveWasmToolchain({ install: true, note: console.error });
 * ```
 */
export function resolveWasmToolchain(options: ResolveOptions): Toolchain {
  const forced = options.prefer ?? process.env.WASI_LAMBDA_TOOLCHAIN;
  if (forced === 'debian') return requireDebian(options);
  if (forced !== undefined && forced !== '' && forced !== 'rustup' && forced !== 'auto') {
    throw new WasiLambdaError('INVALID_CONFIG', `WASI_LAMBDA_TOOLCHAIN is "${forced}"; use auto, rustup or debian`);
  }
  const hasRustup = capture('rustup', ['--version']).status === 0;
  if (hasRustup && rustupHasTarget(WASM_TARGET)) return rustupToolchain();
  if (hasRustup && options.install) {
    options.note(`trying: rustup target add ${WASM_TARGET}`);
    if (capture('rustup', ['target', 'add', WASM_TARGET]).status === 0 && rustupHasTarget(WASM_TARGET)) {
      return rustupToolchain();
    }
    options.note(`rustup could not add ${WASM_TARGET}; trying Debian's toolchain`);
  }
  if (forced === 'rustup') throw missing();
  return requireDebian(options);
}

function requireDebian(options: ResolveOptions): Toolchain {
  if (debianToolchainPresent()) return debianToolchain();
  if (options.install && canAptInstall() && aptInstall(options.note) && debianToolchainPresent()) {
    return debianToolchain();
  }
  throw missing();
}

function missing(): WasiLambdaError {
  return new WasiLambdaError(
    'TOOLCHAIN_MISSING',
    `no Rust toolchain can build ${WASM_TARGET}. Install one of:\n` +
      `  rustup target add ${WASM_TARGET}                       (any machine with rustup)\n` +
      `  sudo apt-get install ${DEBIAN_PACKAGES.join(' ')}   (Debian/Ubuntu, no rustup targets needed)`,
  );
}
