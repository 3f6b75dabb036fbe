import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageFile } from '../build/package-root.js';
import { WasiLambdaError } from '../errors.js';

/** The sample events' folder, shipped in the package (`invoke --data-example NAME`). */
function examplesDir(): string {
  return packageFile(join('src', 'local', 'data-examples'), 'a complete wasi-lambda package');
}

/**
 * The names of the sample events for AWS's common event sources, sorted: `apigw-http`,
 * `sqs`, `s3`, …. Each was written for this project in the shape AWS documents.
 *
 * ```ts
 * dataExampleNames().includes('sqs'); // true
 * ```
 */
export function dataExampleNames(): string[] {
  return readdirSync(examplesDir())
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** One sample event's bytes, or an error listing the names there are. */
export function dataExample(name: string): Uint8Array {
  const names = dataExampleNames();
  if (!names.includes(name)) {
    throw new WasiLambdaError(
      'INVALID_INPUT',
      `no data example "${name}"; use one of: ${names.join(', ')} (or --data-example list)`,
    );
  }
  return readFileSync(join(examplesDir(), `${name}.json`));
}
