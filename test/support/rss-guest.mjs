// Loads one hostile module the way the host does, runs its `attack` export, and prints the
// process's peak resident set before and after, as JSON on stdout:
//
//   node rss-guest.mjs <host bundle exporting compileGuest, guestMemoryPages> <module.wasm> <memory MB | raw>
//
// `raw` compiles with WebAssembly.compile alone, without the host's module policy: the control
// that shows the measurement sees an attack that gets through.
import { readFileSync } from 'node:fs';

const [bundle, wasmPath, memory] = process.argv.slice(2);
const { compileGuest, guestMemoryPages } = await import(bundle);
const bytes = readFileSync(wasmPath);

/** VmHWM: the most memory this process ever had resident, in KiB. */
const peakKb = () => Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);

const baselineKb = peakKb();
let outcome;
try {
  const module =
    memory === 'raw' ? await WebAssembly.compile(bytes) : await compileGuest(bytes, guestMemoryPages(Number(memory)));
  const { attack } = new WebAssembly.Instance(module, {}).exports;
  outcome = { attacked: attack() };
} catch (err) {
  outcome = { refused: err.code ?? String(err) };
}
process.stdout.write(JSON.stringify({ baselineKb, peakKb: peakKb(), ...outcome }));
