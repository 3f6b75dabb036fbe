/** Which WASI preview1 implementation backs the guest's imports. */
export type WasiKind = 'wasmer' | 'node';

export const WASI_KINDS: readonly WasiKind[] = ['wasmer', 'node'];

/** What the guest is granted. Nothing else reaches it: no other preopened directory. */
export interface WasiGrant {
  env: Readonly<Record<string, string>>;
  args: readonly string[];
  /**
   * When set, the guest gets a writable `/tmp`: this host directory with node:wasi, a private
   * in-memory directory with @wasmer/wasi (which never touches the host filesystem).
   */
  tmp?: string | undefined;
}

/** One guest instance's WASI state. */
export interface WasiSession {
  /** The `wasi_snapshot_preview1` functions to import. */
  readonly imports: WebAssembly.ModuleImports;
  /** Binds the session to the instance (its memory) and runs `_initialize` if exported. */
  start(instance: WebAssembly.Instance): void;
  /** Releases what the implementation holds outside the JS heap. */
  dispose(): void;
}

/**
 * A WASI implementation: one small adapter per library, so the host never depends on either
 * directly.
 */
export interface WasiBackend {
  readonly kind: WasiKind;
  session(module: WebAssembly.Module, grant: WasiGrant): WasiSession;
}
