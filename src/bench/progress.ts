/**
 * A progress bar on stderr: redrawn in place on a terminal, one line per step elsewhere
 * (CI logs), so a long run shows where it is.
 */
export class Progress {
  readonly #total: number;
  readonly #tty: boolean;
  #done = 0;

  constructor(total: number) {
    this.#total = Math.max(1, total);
    this.#tty = process.stderr.isTTY === true;
  }

  step(label: string, amount = 1): void {
    this.#done = Math.min(this.#total, this.#done + amount);
    const width = 30;
    const filled = Math.round((this.#done / this.#total) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round((this.#done / this.#total) * 100)).padStart(3)}% ${label}`;
    if (this.#tty) process.stderr.write(`\r\x1b[2K${bar}`);
    else process.stderr.write(`${bar}\n`);
  }

  finish(): void {
    if (this.#tty) process.stderr.write('\n');
  }
}
