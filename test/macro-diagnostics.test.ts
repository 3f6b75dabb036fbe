import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from './support/spawn.js';

const WORKSPACE = resolve('wasm-handlers');

/**
 * Each case is one handler (or `main`) a user might plausibly write wrong, and what they must be
 * told. Every case sits in its own module, so the ones that expand (and so define `main`) do not
 * collide.
 */
const CASES = {
  missing_context: {
    source: 'fn missing_context(event: serde_json::Value) -> Result<(), Error> { Ok(()) }',
    says: /a handler takes exactly two parameters, the event and the context, found 1\. expected `fn name\(event: E, ctx: wasi_lambda::Context\) -> Result<R, wasi_lambda::Error>`/,
  },
  async_with_context: {
    source: 'async fn async_with_context(event: serde_json::Value, ctx: Context) -> Result<(), Error> { Ok(()) }',
    says: /an async handler takes one parameter, `event: LambdaEvent<E>` \(the context is `event\.context`\), found 2/,
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
  async_event_not_deserialisable: {
    source:
      'async fn async_event_not_deserialisable(event: LambdaEvent<std::net::TcpStream>) -> Result<(), BoxError> { Ok(()) }',
    says: /TcpStream: .*Deserialize/,
  },
  async_error_not_reportable: {
    source:
      'async fn async_error_not_reportable(event: LambdaEvent<serde_json::Value>) -> Result<(), std::rc::Rc<str>> { Ok(()) }',
    says: /`Rc<str>` cannot be reported as a Lambda error/,
  },
  main_not_async: {
    attribute: 'main',
    source: 'fn main() {}',
    says: /#\[wasi_lambda::main\] goes on an `async fn`; add `async`/,
  },
  main_with_parameters: {
    attribute: 'main',
    source: 'async fn main(config: String) {}',
    says: /main takes no parameters and no generics/,
  },
} as const satisfies Record<string, { source: string; says: RegExp; attribute?: 'handler' | 'main' }>;

describe('#[wasi_lambda::handler] and #[wasi_lambda::main] on a wrong signature', () => {
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
    const modules = Object.entries(CASES)
      .map(([name, item]) => {
        const attribute = 'attribute' in item ? item.attribute : 'handler';
        return [
          `mod ${name} {`,
          '    use wasi_lambda::runtime::{Error as BoxError, LambdaEvent};',
          '    use wasi_lambda::{Context, Error};',
          `    #[wasi_lambda::${attribute}]`,
          `    ${item.source}`,
          '}',
        ].join('\n');
      })
      .join('\n\n');
    await writeFile(join(crate, 'src', 'lib.rs'), `#![allow(unused)]\n\n${modules}\n`);
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
