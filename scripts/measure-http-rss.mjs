// The runtime process's memory under an outbound-HTTP attack: a guest that, every invocation,
// sends 64 requests (the most in flight at once) each carrying a large body, to a server that
// answers each with a large body, and takes every response. Prints, per round of invocations,
// the runtime process's resident memory after the round (VmRSS) and its peak so far (VmHWM,
// which the emulator reports as Max Memory Used). Bounded means both stop growing.
// Run from the repository root after `npm run build:js`:
//   node scripts/measure-http-rss.mjs [rounds=8] [invocations per round=5] [body KiB=1024]
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { Emulator, FUNCTION_DEFAULTS } from '../dist/index.js';

const rounds = Number(process.argv[2] ?? 8);
const perRound = Number(process.argv[3] ?? 5);
const bodyBytes = Number(process.argv[4] ?? 1024) * 1024;
const IN_FLIGHT = 64;

const answer = new Uint8Array(bodyBytes).fill(0x62);
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end(answer));
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const { port } = server.address();
const url = `http://127.0.0.1:${port}/echo`;

// Memory: [0, 64 KiB) data, the request body at 64 KiB, responses above it (reset each call).
const heap = 65536 + bodyBytes;
const pages = Math.ceil((heap + IN_FLIGHT * (bodyBytes + 4096) + 65536) / 65536);
const HTTP = 'wasi-lambda:handler/http@0.2.0';
const wat = `(module
  (import "${HTTP}" "send" (func $send (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "${HTTP}" "take" (func $take (param i32 i32)))
  (memory (export "memory") ${pages})
  (global $bump (mut i32) (i32.const ${heap}))
  (data (i32.const 1000) "POST")
  (data (i32.const 1024) "${url}")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
      (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "cabi_post_handle") (param i32))
  (func (export "handle") (param $args i32) (result i32)
    (local $i i32) (local $ok i32)
    (global.set $bump (i32.const ${heap}))
    (loop $send
      (call $send (i32.const 1000) (i32.const 4) (i32.const 1024) (i32.const ${url.length})
        (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 65536) (i32.const ${bodyBytes}) (i32.const 0) (i32.const 0)
        (i32.add (i32.const 2048) (i32.mul (local.get $i) (i32.const 20))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $send (i32.lt_u (local.get $i) (i32.const ${IN_FLIGHT}))))
    (local.set $i (i32.const 0))
    (loop $take
      (if (i32.eqz (i32.load8_u (i32.add (i32.const 2048) (i32.mul (local.get $i) (i32.const 20))))) (then
        (call $take (i32.load (i32.add (i32.const 2052) (i32.mul (local.get $i) (i32.const 20)))) (i32.const 512))
        (local.set $ok (i32.add (local.get $ok) (i32.eqz (i32.load8_u (i32.const 512)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $take (i32.lt_u (local.get $i) (i32.const ${IN_FLIGHT}))))
    ;; The response: the number of requests answered, as 4 bytes.
    (i32.store (i32.const 128) (local.get $ok))
    (i32.store8 (i32.const 64) (i32.const 0))
    (i32.store (i32.const 68) (i32.const 128))
    (i32.store (i32.const 72) (i32.const 4))
    (i32.const 64))
)`;
const dir = mkdtempSync(join(tmpdir(), 'measure-http-rss-'));
const module = join(dir, 'attack.wasm');
writeFileSync(module, await parse(wat));

const emulator = await Emulator.start({
  port: 0,
  logSink: () => {},
  functions: [
    {
      ...FUNCTION_DEFAULTS,
      name: 'attack',
      kind: 'wasm',
      code: module,
      memoryMb: 3008,
      timeoutSeconds: 60,
      environment: { WASI_LAMBDA_ALLOW_HOSTS: `127.0.0.1:${port}` },
    },
  ],
});

/** The runtime process: this process's child running the wasm runtime. */
function runtimeStatus() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
      return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return { rss: Number.NaN, peak: Number.NaN };
}

const mb = (x) => `${x.toFixed(1).padStart(7)} MB`;
console.log(
  `${IN_FLIGHT} requests in flight per invocation, ${bodyBytes / 1024} KiB body each way; guest memory ${(pages * 64) / 1024} MiB`,
);
// The rest were refused: over the host's bytes-in-flight budget (TooManyRequests, ResponseTooLarge).
let answeredTotal = 0;
for (let round = 1; round <= rounds; round++) {
  for (let i = 0; i < perRound; i++) {
    const response = await fetch(`${emulator.endpoint}/2015-03-31/functions/attack/invocations`, {
      method: 'POST',
      body: '{}',
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    const answered = bytes.length === 4 ? new DataView(bytes.buffer).getUint32(0, true) : -1;
    if (answered < 0) throw new Error(new TextDecoder().decode(bytes));
    answeredTotal += answered;
  }
  const { rss, peak } = runtimeStatus();
  console.log(
    `after ${String(round * perRound).padStart(3)} invocations: RSS ${mb(rss)}, peak ${mb(peak)}; ` +
      `${(answeredTotal / (round * perRound)).toFixed(1)} of ${IN_FLIGHT} requests answered per invocation`,
  );
}
await emulator.stop();
server.close();
rmSync(dir, { recursive: true, force: true });
