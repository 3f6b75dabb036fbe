import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** Pinned: the deploy test documents what this version of moto lacks. */
export const MOTO_VERSION = '5.2.5';
const VENV = resolve('node_modules', '.cache', 'wasi-lambda-moto');

/** Installs moto's server into a project-local virtualenv (once), from PyPI. */
export function installMoto(): string {
  const server = join(VENV, 'bin', 'moto_server');
  if (existsSync(server)) return server;
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(join(VENV, 'bin', 'pip'), ['install', '--quiet', `moto[server]==${MOTO_VERSION}`], { stdio: 'inherit' });
  return server;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface Moto {
  endpoint: string;
  stop(): void;
}

export interface MotoOptions {
  /** Added to moto's environment, e.g. `INITIAL_NO_AUTH_ACTION_COUNT` to turn IAM enforcement on. */
  env?: Readonly<Record<string, string>>;
}

/** Starts moto on a loopback port and waits until it answers. */
export async function startMoto(options: MotoOptions = {}): Promise<Moto> {
  const server = installMoto();
  const port = await freePort();
  const child: ChildProcess = spawn(server, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, ...options.env },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) return { endpoint, stop: () => child.kill('SIGTERM') };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`moto did not start on ${endpoint}`);
}
