import { existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { packageFile, packageRoot } from '../build/package-root.js';
import { WasiLambdaError } from '../errors.js';
import { VERSION } from '../version.js';
import { projectName } from './project-name.js';
import { renderTemplate, TEMPLATE_EVENTS, TEMPLATES, type TemplateName } from './templates.js';

export interface NewProjectOptions {
  name: string;
  template?: TemplateName | undefined;
  /** Where the project directory is made (default: the current directory). */
  parent?: string | undefined;
  /** The `wasi-lambda` dev dependency (default: a `file:` spec of the package running this). */
  packageSpec?: string | undefined;
}

export interface NewProject {
  dir: string;
  files: string[];
}

/**
 * How the new project depends on wasi-lambda. The package is not on the npm registry yet, so
 * the project points at the copy this command runs from; once published this becomes `^VERSION`.
 */
function defaultPackageSpec(projectDir: string): string {
  const path = relative(projectDir, realpathSync(packageRoot())).split('\\').join('/');
  return `file:${path}`;
}

/**
 * Writes a standalone project: a handler crate using the SDK crates shipped in the npm
 * package, `package.json`, `serverless.yml`, sample events, a unit test, `.gitignore` and a
 * README. Refuses a name that is not valid everywhere it is used, and any existing,
 * non-empty directory.
 *
 * ```ts
 * const { dir } = newProject({ name: 'orders', template: 'sqs' });
 * ```
 */
export function newProject(options: NewProjectOptions): NewProject {
  const name = projectName(options.name);
  const template = options.template ?? 'basic';
  if (!TEMPLATES.includes(template)) {
    throw new WasiLambdaError('INVALID_INPUT', `no template "${template}"; choose one of ${TEMPLATES.join(', ')}`);
  }
  const dir = resolve(options.parent ?? '.', name);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new WasiLambdaError('INVALID_INPUT', `${dir} already exists and is not empty; nothing was written`);
  }
  // The SDK crates must be in the package the project will depend on.
  packageFile('sdk/wasi-lambda/Cargo.toml', 'npm run build:sdk');
  const files = renderTemplate(packageFile('templates', 'a complete wasi-lambda package'), template, {
    name,
    crate: name.replaceAll('-', '_'),
    event: TEMPLATE_EVENTS[template],
    packageSpec: options.packageSpec ?? defaultPackageSpec(dir),
    sdkVersion: VERSION,
  });
  for (const file of files) {
    const path = join(dir, file.path);
    mkdirSync(dirname(path), { recursive: true });
    // `wx`: a file that appeared meanwhile is never overwritten.
    writeFileSync(path, file.text, { flag: 'wx' });
  }
  return { dir, files: files.map((file) => file.path).sort() };
}
