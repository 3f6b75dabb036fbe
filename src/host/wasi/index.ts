import { WasiLambdaError } from '../../errors.js';
import { WASI_KINDS, type WasiBackend, type WasiKind } from './backend.js';

export type { WasiBackend, WasiGrant, WasiKind, WasiSession } from './backend.js';
export { WASI_KINDS } from './backend.js';

/** Parses a WASI backend name from configuration. */
export function parseWasiKind(value: string | undefined, source: string): WasiKind {
  if (value === undefined || value === '') return 'wasmer';
  if ((WASI_KINDS as readonly string[]).includes(value)) return value as WasiKind;
  throw new WasiLambdaError('INVALID_CONFIG', `${source} is "${value}"; use one of: ${WASI_KINDS.join(', ')}`);
}

/**
 * Loads only the implementation asked for: `@wasmer/wasi` carries a ~450 KB module of its
 * own, which a process using another backend should not even parse.
 */
export async function createWasiBackend(kind: WasiKind): Promise<WasiBackend> {
  if (kind === 'node') return (await import('./node.js')).createNodeBackend();
  return (await import('./wasmer.js')).createWasmerBackend();
}
