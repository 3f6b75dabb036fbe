import { packageLambdaFunctions } from '../../build/lambda-packages.js';

export interface PackageCommandOptions {
  workspace: string;
  native: boolean;
  install: boolean;
}

/** `wasi-lambda package`: writes the deployment zips under `build/lambda/` and lists them. */
export async function packageCommand(options: PackageCommandOptions): Promise<number> {
  const packages = await packageLambdaFunctions({
    workspace: options.workspace,
    install: options.install,
    native: options.native,
  });
  for (const [name, path] of Object.entries(packages.node).sort()) process.stdout.write(`${name}\tnodejs\t${path}\n`);
  for (const [name, path] of Object.entries(packages.rawNode).sort())
    process.stdout.write(`${name}\tnodejs-raw\t${path}\n`);
  for (const [name, path] of Object.entries(packages.native).sort()) {
    process.stdout.write(`${name}\tprovided.al2023\t${path}\n`);
  }
  return 0;
}
