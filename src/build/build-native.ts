import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WasiLambdaError } from '../errors.js';
import { type BuildOptions, buildContext, outputDir } from './build-handlers.js';
import { runCargo } from './cargo.js';
import { type HandlerPackage, handlerPackages } from './cargo-metadata.js';
import { freshStamp, writeStamp } from './stamp.js';
import { NATIVE_TARGET, resolveToolchain, type Toolchain } from './toolchain.js';
import { zip } from './zip.js';

/** A native build of one handler crate. */
export interface NativeArtifact {
  /** The fully static executable, named `bootstrap` as `provided.al2023` expects. */
  bootstrap: string;
  /** A deployment package holding only `bootstrap` (mode 0755). */
  zip: string;
}

export interface NativeBuildResult {
  bootstraps: Record<string, NativeArtifact>;
  cached: boolean;
  toolchain: string;
}

/**
 * `cargo` arguments that build a handler crate's native `bootstrap`: its library compiled as an
 * executable (the #[handler] macro supplies `main` on native targets), unwinding so a panic is
 * reported like the wasm build's.
 */
export function bootstrapCargoArgs(packageId: string): string[] {
  return [
    'rustc',
    '-p',
    packageId,
    '--lib',
    '--crate-type',
    'bin',
    '--config',
    'profile.release.panic="unwind"',
    '--config',
    'profile.release.strip=true',
  ];
}

async function compileBootstrap(workspace: string, toolchain: Toolchain, pkg: HandlerPackage): Promise<string> {
  let executable: string | undefined;
  await runCargo(
    toolchain,
    workspace,
    bootstrapCargoArgs(pkg.id),
    (artifact) => {
      const isBootstrap = artifact.target?.crate_types?.includes('bin') && artifact.package_id === pkg.id;
      // cargo leaves `executable` null for a library target built as a binary.
      if (isBootstrap) executable = artifact.executable ?? artifact.filenames?.[0];
    },
    // The library's public items are unused in the executable; that is expected.
    ['-A', 'dead_code'],
  );
  if (executable === undefined) {
    throw new WasiLambdaError('BUILD_FAILED', `cargo did not report an executable for ${pkg.name}`);
  }
  return executable;
}

/**
 * Builds each handler crate as a native, fully static `x86_64-unknown-linux-musl` `bootstrap`
 * for the `provided.al2023` runtime, driven by AWS's `lambda_runtime`, and zips it.
 *
 * ```ts
 * const { bootstraps } = await buildNative();
 * // bootstraps.hello.zip → wasm-handlers/target/wasi-lambda/native/hello.zip
 * ```
 */
export async function buildNative(options: BuildOptions = {}): Promise<NativeBuildResult> {
  const { workspace, note, install, sources } = buildContext(options);
  const out = join(outputDir(workspace), 'native');
  const stampPath = join(out, 'build-stamp.json');
  const files = (outputs: Record<string, NativeArtifact>) =>
    Object.values(outputs).flatMap((a) => [a.bootstrap, a.zip]);
  const stamp = options.force ? undefined : freshStamp(stampPath, sources, files);
  if (stamp) return { bootstraps: stamp.outputs, cached: true, toolchain: stamp.toolchain };

  const toolchain = resolveToolchain(NATIVE_TARGET, { install, note, workspace });
  note(`building native ${NATIVE_TARGET} bootstraps in ${workspace} with ${toolchain.version} (${toolchain.kind})`);
  const bootstraps: Record<string, NativeArtifact> = {};
  for (const pkg of handlerPackages(workspace, toolchain)) {
    const executable = await compileBootstrap(workspace, toolchain, pkg);
    const dir = join(out, pkg.name);
    mkdirSync(dir, { recursive: true });
    const bootstrap = join(dir, 'bootstrap');
    copyFileSync(executable, bootstrap);
    chmodSync(bootstrap, 0o755);
    const archive = join(out, `${pkg.name}.zip`);
    writeFileSync(archive, zip([{ name: 'bootstrap', data: readFileSync(bootstrap), mode: 0o755 }]));
    bootstraps[pkg.name] = { bootstrap, zip: archive };
  }
  writeStamp(stampPath, { sources, toolchain: toolchain.version, outputs: bootstraps });
  return { bootstraps, cached: false, toolchain: toolchain.version };
}
