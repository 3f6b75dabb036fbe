// One watch cycle in a project made by `wasi-lambda new` (argument: its directory), as a user
// would do it: start `wasi-lambda watch`, invoke, edit the handler, wait for the rebuild,
// invoke again and get the new answer; then break the build and see the old code still serve.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const project = process.argv[2] ?? '.';
const name = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).name;
const source = join(project, 'src', 'lib.rs');
const deadline = setTimeout(() => fail('no result within 10 minutes'), 600_000);

const child = spawn(join(project, 'node_modules', '.bin', 'wasi-lambda'), ['watch', '--port', '0'], {
  cwd: project,
  stdio: ['ignore', 'inherit', 'pipe'],
});
let stderr = '';
const waiters = [];
child.stderr.setEncoding('utf8');
child.stderr.on('data', (chunk) => {
  process.stderr.write(chunk);
  stderr += chunk;
  for (const waiter of [...waiters]) waiter();
});
child.on('exit', (code) => fail(`watch exited (${code})`));

function fail(message) {
  process.stderr.write(`user-flow-watch: ${message}\n`);
  child.kill('SIGKILL');
  process.exit(1);
}

/** Resolves with the first match of `pattern` in stderr written after `from`. */
function waitFor(pattern, from) {
  return new Promise((resolve) => {
    const check = () => {
      const match = stderr.slice(from).match(pattern);
      if (!match) return;
      waiters.splice(waiters.indexOf(check), 1);
      resolve(match);
    };
    waiters.push(check);
    check();
  });
}

async function invoke(endpoint) {
  const response = await fetch(`${endpoint}/2015-03-31/functions/${name}/invocations`, {
    method: 'POST',
    body: JSON.stringify({ name: 'Ada' }),
  });
  return response.text();
}

async function expectAnswer(endpoint, expected) {
  const body = await invoke(endpoint);
  if (!body.includes(expected)) fail(`expected ${expected}, got ${body}`);
  process.stdout.write(`user-flow-watch: ${body}\n`);
}

const [, endpoint] = await waitFor(/emulating Lambda at (http:\/\/\S+)/, 0);
await waitFor(/watching for changes/, 0);
await expectAnswer(endpoint, 'Hello, Ada!');

const original = readFileSync(source, 'utf8');
let mark = stderr.length;
writeFileSync(source, original.replace('format!("Hello, {name}!")', 'format!("Howdy, {name}!")'));
await waitFor(/rebuilt in/, mark);
await expectAnswer(endpoint, 'Howdy, Ada!');

mark = stderr.length;
writeFileSync(source, `${original}\nthis is not Rust\n`);
await waitFor(/build failed, still serving the previous version/, mark);
await expectAnswer(endpoint, 'Howdy, Ada!');

writeFileSync(source, original);
clearTimeout(deadline);
child.removeAllListeners('exit');
child.kill('SIGTERM');
process.stdout.write('user-flow-watch: edit → rebuild → new answer; a broken build kept the old one serving\n');
