import { performance } from 'node:perf_hooks';

/** Steps shorter than this show nothing: a fast step should not flicker or add lines. */
const QUIET_MS = 1000;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface Active {
  label: string;
  started: number;
  shown: boolean;
}

let active: Active | undefined;
const out = process.stderr;

function elapsed(step: Active): string {
  return `${((performance.now() - step.started) / 1000).toFixed(1)} s`;
}

function draw(step: Active, frame: number): void {
  out.write(`\r\x1b[2K${FRAMES[frame % FRAMES.length]} ${step.label} ${elapsed(step)}`);
}

/**
 * Output of a child process (cargo's diagnostics) while a step runs: on a terminal the
 * spinner line is cleared, the text written, and the spinner redrawn below it.
 */
export function progressWrite(text: string): void {
  if (active?.shown && out.isTTY) {
    out.write(`\r\x1b[2K${text}`);
    draw(active, 0);
  } else {
    out.write(text);
  }
}

/**
 * Runs a long step (a toolchain install, a cargo build, packaging, bench) and shows that it
 * is alive: on a terminal a spinner with the elapsed time, otherwise one line when it starts
 * and one when it ends. Nothing at all when it ends within a second.
 *
 * ```ts
 * const result = await withProgress('cargo build (wasm32-wasip1)', () => compile());
 * ```
 */
export async function withProgress<T>(label: string, work: () => Promise<T>): Promise<T> {
  // Nested steps (a build inside packaging) show as the outer one.
  if (active !== undefined) return work();
  const step: Active = { label, started: performance.now(), shown: false };
  active = step;
  const tty = out.isTTY === true;
  let frame = 0;
  let ticker: NodeJS.Timeout | undefined;
  const reveal = setTimeout(() => {
    step.shown = true;
    if (!tty) {
      out.write(`wasi-lambda: ${label}…\n`);
      return;
    }
    draw(step, frame);
    ticker = setInterval(() => draw(step, ++frame), 100);
  }, QUIET_MS);
  let ok = false;
  try {
    const result = await work();
    ok = true;
    return result;
  } finally {
    clearTimeout(reveal);
    clearInterval(ticker);
    active = undefined;
    if (step.shown) {
      const outcome = ok ? 'done' : 'failed';
      out.write(
        tty
          ? `\r\x1b[2K${ok ? '✓' : '✗'} ${label} ${elapsed(step)}\n`
          : `wasi-lambda: ${label}: ${outcome} in ${elapsed(step)}\n`,
      );
    }
  }
}
