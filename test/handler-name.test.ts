import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHandlers } from '../src/build/build-handlers.js';
import { buildNative } from '../src/build/build-native.js';
import { WasmHost } from '../src/host/wasm-host.js';
import { decode, encode, testContext } from './support/handlers.js';
import { run } from './support/spawn.js';

const WORKSPACE = resolve('wasm-handlers');

/**
 * A workspace whose one handler is called `http`, as the `http` crate the SDK depends on is:
 * `cargo rustc -p http` is ambiguous there ("specification `http` is ambiguous"), so the build
 * must name the handler by its package id. It is reached through a symlink, as a user's
 * checkout may be (and as `os.tmpdir()` is on macOS): cargo resolves a symlinked working
 * directory, so the ids must come from the same manifest path as the build's.
 *
 * The workspace lives at one path across runs, so its own `target/` stays warm; it shares
 * nothing with this repository's workspace but the SDK's sources and the lock file.
 */
async function workspaceWithHandlerNamedHttp(): Promise<string> {
  const root = join(tmpdir(), 'wasi-lambda-named-http');
  const crate = join(root, 'http');
  await mkdir(join(crate, 'src'), { recursive: true });
  const manifest = await readFile(join(WORKSPACE, 'Cargo.toml'), 'utf8');
  const profile = manifest.slice(manifest.indexOf('[profile.release]'));
  await writeFile(join(root, 'Cargo.toml'), `[workspace]\nresolver = "3"\nmembers = ["http"]\n\n${profile}`);
  await writeFile(
    join(crate, 'Cargo.toml'),
    `[package]
name = "http"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
wasi-lambda = { path = ${JSON.stringify(join(WORKSPACE, 'crates', 'wasi-lambda'))} }
serde = { version = "1", features = ["derive"] }
`,
  );
  await copyFile(join(WORKSPACE, 'examples', 'hello', 'src', 'lib.rs'), join(crate, 'src', 'lib.rs'));
  // The lock file pins the same versions, so nothing is resolved (offline); the Debian
  // native route links a shim the workspace carries in support/.
  await copyFile(join(WORKSPACE, 'Cargo.lock'), join(root, 'Cargo.lock'));
  await cp(join(WORKSPACE, 'support'), join(root, 'support'), { recursive: true });
  const link = join(await mkdtemp(join(tmpdir(), 'wasi-lambda-link-')), 'workspace');
  await symlink(root, link);
  return link;
}

describe('a handler named like a crate in its dependency graph', () => {
  let workspace: string;

  beforeAll(async () => {
    workspace = await workspaceWithHandlerNamedHttp();
  });

  // The link only; the workspace and its warm target stay for the next run.
  afterAll(() => rm(dirname(workspace), { recursive: true, force: true }));

  it('is what cargo cannot name alone (the case this test is for)', async () => {
    const result = await run('cargo', ['pkgid', '--offline', 'http'], { cwd: workspace });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/ambiguous/);
  });

  it('builds to a module that answers, through a symlinked path', async () => {
    const { handlers } = await buildHandlers({ workspace, note: () => {} });
    const path = handlers.http;
    expect(path).toBeDefined();
    const host = await WasmHost.create(await readFile(path ?? ''), { logSink: () => {} });
    const outcome = host.invoke(encode('{"name":"Ada"}'), testContext());
    expect(outcome.status === 'ok' && JSON.parse(decode(outcome.response))).toEqual({ message: 'Hello, Ada!' });
  }, 900_000);

  it('builds to a native bootstrap', async () => {
    const { bootstraps } = await buildNative({ workspace, note: () => {} });
    expect(bootstraps.http?.bootstrap).toMatch(/http\/bootstrap$/);
    expect(existsSync(bootstraps.http?.bootstrap ?? '')).toBe(true);
  }, 900_000);
});
