import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * What `wasi-lambda new --template` offers: `basic` (a `#[handler]` function), `http` (API
 * Gateway HTTP API / Function URL), `sqs` (a queue consumer with batch item failures), `aws`
 * (AWS `lambda_runtime`'s async shape, for code ported from it).
 */
export const TEMPLATES = ['basic', 'http', 'sqs', 'aws'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

/** The event `npm run invoke` sends, per template. */
export const TEMPLATE_EVENTS: Record<TemplateName, string> = {
  basic: 'events/hello.json',
  http: 'events/get-hello.json',
  sqs: 'events/sqs.json',
  aws: 'events/hello.json',
};

/** One file of a template, with its path in the new project. */
export interface TemplateFile {
  path: string;
  text: string;
}

/** npm drops `.gitignore` from published packages, so templates ship it as `_gitignore`. */
function projectPath(path: string): string {
  return path.replace(/(^|\/)_gitignore$/, '$1.gitignore');
}

function walk(root: string, dir: string = root): TemplateFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return walk(root, full);
    return [{ path: projectPath(relative(root, full).split('\\').join('/')), text: readFileSync(full, 'utf8') }];
  });
}

/**
 * A template's files with `{{key}}` replaced: the shared files (`templates/common`) and the
 * template's own, which win where both have a path. An unknown key is left as written.
 */
export function renderTemplate(
  templatesDir: string,
  template: TemplateName,
  values: Readonly<Record<string, string>>,
): TemplateFile[] {
  const files = new Map<string, string>();
  for (const source of ['common', template]) {
    for (const file of walk(join(templatesDir, source))) files.set(file.path, file.text);
  }
  return [...files].map(([path, text]) => ({
    path,
    text: text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole),
  }));
}
