import { spawn, spawnSync } from 'node:child_process';
import { progressWrite } from './progress.js';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and captures its output; never throws for a missing binary. */
export function capture(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): RunResult {
  const result = spawnSync(command, args, { encoding: 'utf8', env: env ?? process.env, timeout: 600_000 });
  return { status: result.error ? null : result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/**
 * Runs a command with stderr passed through (cargo's progress and diagnostics belong on the
 * user's terminal) and stdout captured line by line.
 */
export function stream(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; onStdoutLine?: (line: string) => void },
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    // stderr passes through the progress display, which keeps its spinner below it; cargo
    // then sees a pipe, so on a terminal it is asked for colour explicitly.
    const env = process.stderr.isTTY ? { CARGO_TERM_COLOR: 'always', ...options.env } : options.env;
    const child = spawn(command, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => progressWrite(chunk));
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        options.onStdoutLine?.(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (buffered.length > 0) options.onStdoutLine?.(buffered);
      resolve(code);
    });
  });
}
