import { statSync } from 'node:fs';
import { packageLambdaFunctions } from '../../build/lambda-packages.js';
import { withProgress } from '../../build/progress.js';

export interface PackageCommandOptions {
  workspace: string;
  native: boolean;
  install: boolean;
}

/** `1.2 MB`, `312 kB`: what a zip costs against Lambda's 50 MB direct-upload limit. */
function size(path: string): string {
  const bytes = statSync(path).size;
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** `wasi-lambda package`: writes the deployment zips under `build/lambda/` and lists them with their sizes. */
export async function packageCommand(options: PackageCommandOptions): Promise<number> {
  const packages = await withProgress('packaging for Lambda', () =>
    packageLambdaFunctions({ workspace: options.workspace, install: options.install, native: options.native }),
  );
  const rows: [string, string, string][] = [
    ...Object.entries(packages.node).map(([name, path]): [string, string, string] => [name, 'nodejs', path]),
    ...Object.entries(packages.rawNode).map(([name, path]): [string, string, string] => [name, 'nodejs-raw', path]),
    ...Object.entries(packages.native).map(([name, path]): [string, string, string] => [name, 'provided.al2023', path]),
  ];
  rows.sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  for (const [name, runtime, path] of rows) process.stdout.write(`${name}\t${runtime}\t${path}\t${size(path)}\n`);
  return 0;
}
