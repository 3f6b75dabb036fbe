import { WasiLambdaError } from '../errors.js';

/** Names Cargo or npm reserve, or that would shadow the SDK in the project's own graph. */
const RESERVED = new Set(['wasi-lambda', 'wasi-lambda-macros', 'test', 'std', 'core', 'alloc', 'proc-macro', 'self']);

/**
 * Checks a project name: it becomes the directory, the Cargo package, the npm package, the
 * Serverless service and the function names, so it must be valid as all of them:
 * lowercase ASCII letters, digits and single hyphens, starting with a letter, at most 40
 * characters (a function name is `<name>-native` plus the stage, within Lambda's 64).
 *
 * ```ts
 * projectName('orders-api'); // 'orders-api'
 * projectName('Orders');     // throws INVALID_INPUT
 * ```
 */
export function projectName(name: string): string {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name) || name.length > 40) {
    throw new WasiLambdaError(
      'INVALID_INPUT',
      `"${name}" cannot name a project: use lowercase letters, digits and single hyphens, starting with a letter, at most 40 characters (e.g. orders-api)`,
    );
  }
  if (RESERVED.has(name)) throw new WasiLambdaError('INVALID_INPUT', `"${name}" is reserved; choose another name`);
  return name;
}
