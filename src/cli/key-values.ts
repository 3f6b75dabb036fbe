import { WasiLambdaError } from '../errors.js';

/** `--env KEY=VALUE` options (repeatable) as a record; the value may contain `=`. */
export function parseKeyValues(pairs: readonly string[], option = '--env'): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new WasiLambdaError('INVALID_INPUT', `${option} expects KEY=VALUE, got "${pair}"`);
    values[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return values;
}
