import { relative, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';

/** Folders whose changes never call for a rebuild: outputs, dependencies, deployment zips. */
const IGNORED = new Set(['target', 'node_modules', '.git', 'build', '.serverless']);

export interface SourceWatcherOptions {
  /** The Cargo workspace to watch. */
  root: string;
  /** Quiet time after the last change before `rebuild` runs (default 300 ms). */
  debounceMs?: number | undefined;
  /**
   * Runs after changes settle; never twice at once (changes meanwhile run it once more
   * after). It reports its own failures: a rejection is ignored and watching goes on.
   */
  rebuild: (changed: string[]) => Promise<void>;
}

/**
 * Watches a workspace's sources (chokidar) and runs `rebuild` once per burst of changes: an
 * editor's save-as-rename-and-write is one rebuild, and a save during a build queues exactly
 * one more.
 *
 * ```ts
 * const watcher = await SourceWatcher.start({ root: '.', rebuild: async () => { await buildHandlers(); } });
 * await watcher.close();
 * ```
 */
export class SourceWatcher {
  readonly #watcher: FSWatcher;
  readonly #options: SourceWatcherOptions;
  readonly #changed = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  private constructor(watcher: FSWatcher, options: SourceWatcherOptions) {
    this.#watcher = watcher;
    this.#options = options;
    watcher.on('all', (_event, path) => this.#schedule(relative(options.root, path)));
  }

  /** Resolves once the initial scan is done: later changes are rebuilds, not the scan. */
  static async start(options: SourceWatcherOptions): Promise<SourceWatcher> {
    const watcher = watch(options.root, {
      ignoreInitial: true,
      ignored: (path) =>
        relative(options.root, path)
          .split(sep)
          .some((part) => IGNORED.has(part)),
    });
    await new Promise<void>((resolve, reject) => {
      watcher.once('ready', resolve);
      watcher.once('error', reject);
    });
    return new SourceWatcher(watcher, options);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#watcher.close();
    await this.#running;
  }

  #schedule(path: string): void {
    if (this.#closed) return;
    this.#changed.add(path);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#flush(), this.#options.debounceMs ?? 300);
  }

  #flush(): void {
    // A build is under way: the changes wait for it, then run one more.
    if (this.#running !== undefined || this.#closed || this.#changed.size === 0) return;
    const changed = [...this.#changed].sort();
    this.#changed.clear();
    this.#running = this.#options
      .rebuild(changed)
      // The rebuild reports its own failures; the watcher keeps watching either way.
      .catch(() => {})
      .finally(() => {
        this.#running = undefined;
        this.#flush();
      });
  }
}
