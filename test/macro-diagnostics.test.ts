import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from './support/spawn.js';

const WORKSPACE = resolve('wasm-handlers');

/** Each case is one handler a user might plausibly write wrong, and what they must be told. */
const CASES = {
  missing_context: {
    source: 'fn missing_context(event: serde_json::Value) -> Result<(), Error> { Ok(()) }',
    says: /a handler takes exactly two parameters, the event and the context, found 1\. expected `fn name\(event: E, ctx: wasi_lambda::Context\) -> Result<R, wasi_lambda::Error>`/,
  },
  is_async: {
    source: 'async fn is_async(event: serde_json::Value, ctx: Context) -> Result<(), Error> { Ok(()) }',
    says: /a wasi-lambda handler runs synchronously inside the wasm module; remove `async`/,
  },
  no_result: {
    source: 'fn no_result(event: serde_json::Value, ctx: Context) {}',
    says: /a handler returns `Result<R, Error>` so Lambda can report failures/,
  },
  named_main: {
    source: 'fn main(event: serde_json::Value, ctx: Context) -> Result<(), Error> { Ok(()) }',
    says: /a handler cannot be named `main`: rename it/,
  },
  event_not_deserialisable: {
    source: 'fn event_not_deserialisable(event: std::fs::File, ctx: Context) -> Result<(), Error> { Ok(()) }',
    says: /File: .*Deserialize/,
  },
} as const;

describe('#[wasi_lambda::handler] on a wrong signature', () => {
  let stderr = '';

  beforeAll(async () => {
    const crate = await mkdtemp(join(tmpdir(), 'wasi-lambda-compile-fail-'));
    await mkdir(join(crate, 'src'));
    await writeFile(
      join(crate, 'Cargo.toml'),
      `[package]
name = "bad-handlers"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
wasi-lambda = { path = ${JSON.stringify(join(WORKSPACE, 'crates', 'wasi-lambda'))} }
serde_json = "1"

[workspace]
`,
    );
    // The workspace's lock file pins the same dependency versions, so no resolution is needed.
    await copyFile(join(WORKSPACE, 'Cargo.lock'), join(crate, 'Cargo.lock'));
    const handlers = Object.values(CASES)
      .map(({ source }) => `#[wasi_lambda::handler]\n${source}\n`)
      .join('\n');
    await writeFile(
      join(crate, 'src', 'lib.rs'),
      `#![allow(unused)]\nuse wasi_lambda::{Context, Error};\n\n${handlers}`,
    );
    const result = await run('cargo', ['check', '--quiet', '--color', 'never'], {
      cwd: crate,
      env: { ...process.env, CARGO_TARGET_DIR: join(WORKSPACE, 'target', 'compile-fail') },
    });
    expect(result.code).not.toBe(0);
    stderr = result.stderr;
  });

  it.each(Object.entries(CASES))('%s is a compile error that says how to fix it', (_name, { says }) => {
    expect(stderr).toMatch(says);
  });
});
