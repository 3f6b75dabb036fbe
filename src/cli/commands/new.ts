import { relative } from 'node:path';
import { newProject } from '../../scaffold/new-project.js';
import type { TemplateName } from '../../scaffold/templates.js';

export interface NewCommandOptions {
  template: TemplateName;
  packageSpec?: string;
}

/** `wasi-lambda new <name>`: writes a standalone project and says what to run next. */
export async function newCommand(name: string, options: NewCommandOptions): Promise<number> {
  const project = newProject({ name, template: options.template, packageSpec: options.packageSpec });
  const where = relative(process.cwd(), project.dir) || '.';
  for (const file of project.files) process.stdout.write(`  ${where}/${file}\n`);
  process.stdout.write(`\nNext:\n  cd ${where}\n  npm install\n  npm run invoke\n`);
  return 0;
}
