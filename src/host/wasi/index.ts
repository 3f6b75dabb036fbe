import { WasiLambdaError } from '../../errors.js';
import { WASI_KINDS, type WasiBackend, type WasiKind } from './backend.js';
import { createNodeBackend } from './node.js';
import { createWasmerBackend } from './wasmer.js';

export type { WasiBackend, WasiGrant, WasiKind, WasiSession } from './backend.js';
export { WASI_KINDS } from './backend.js';

/** Parses a WASI backend name from configuration. */
export function parseWasiKind(value: string | undefined, source: string): WasiKind {
  if (value === undefined || value === '') return 'wasmer';
  if ((WASI_KINDS as readonly string[]).includes(value)) return value as WasiKind;
  throw new WasiLambdaError('INVALID_CONFIG', `${source} is "${value}"; use one of: ${WASI_KINDS.join(', ')}`);
}

export function createWasiBackend(kind: WasiKind): Promise<WasiBackend> {
  return kind === 'node' ? createNodeBackend() : createWasmerBackend();
}
