/** The benchmark's events: deterministic, with keys in sorted order and integer numbers so
 * that serde_json (wasm, native) and JSON.stringify (Node.js) answer byte for byte alike. */

export type WorkloadName = 'echo-1kb' | 'transform-1mb' | 'sieve' | 'http-get' | 'aws-getitem' | 'cold-start';
export const WORKLOADS: readonly WorkloadName[] = [
  'echo-1kb',
  'transform-1mb',
  'sieve',
  'http-get',
  'aws-getitem',
  'cold-start',
];

export const WORKLOAD_TITLES: Record<WorkloadName, string> = {
  'echo-1kb': 'warm 1 KB echo',
  'transform-1mb': '1 MB JSON transform',
  sieve: 'compute: primes below 5,000,000',
  'http-get': 'one outbound GET to a loopback server',
  'aws-getitem': 'aws: one DynamoDB GetItem against moto',
  'cold-start': 'cold start, ~1 MB module (process start to first response)',
};

/**
 * The handler crate each workload runs: the workloads crate for computation, the `fetch`
 * example for outbound HTTP (so the workloads crate stays free of an HTTP client, which would
 * weigh on its native cold start), and `aws-getitem` for AWS calls.
 *
 * `aws-getitem` is measured once the workspace has a handler of that name (it needs the SDK's
 * `aws` feature): event `{"id": "bench-1", "table": "bench"}`, one DynamoDB `GetItem` of that
 * key with `wasi_lambda::aws::config()`, answering the item as JSON. The bench starts moto,
 * creates the table with the item, and gives the function `AWS_ENDPOINT_URL`, `AWS_REGION`,
 * credentials and `WASI_LAMBDA_AWS=dynamodb:table/bench` (src/bench/moto.ts).
 */
export const WORKLOAD_HANDLERS: Record<WorkloadName, string> = {
  'echo-1kb': 'workloads',
  'transform-1mb': 'workloads',
  sieve: 'workloads',
  'http-get': 'fetch',
  'aws-getitem': 'aws-getitem',
  'cold-start': 'workloads',
};

/** Warm invocations per variant (through the emulator, and again in-process); cold starts per variant. */
export const WORKLOAD_SAMPLES: Record<WorkloadName, number> = {
  'echo-1kb': 1000,
  'transform-1mb': 300,
  sieve: 300,
  'http-get': 500,
  'aws-getitem': 300,
  'cold-start': 15,
};

/** What a workload's event refers to that only exists while the bench runs. */
export interface WorkloadEnvironment {
  /** The loopback server `http-get` calls. */
  httpUrl?: string | undefined;
  /** The DynamoDB table and key `aws-getitem` reads. */
  table?: string | undefined;
}

function echoEvent(): string {
  const items = Array.from({ length: 16 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b', 'c'] }));
  return JSON.stringify({ payload: { items, note: 'x'.repeat(64) }, workload: 'echo' });
}

function transformEvent(): string {
  const orders = [];
  let size = 0;
  for (let id = 0; size < 1_000_000; id++) {
    const items = Array.from({ length: 1 + (id % 5) }, (_, k) => ({
      cents: 100 + ((id * 37 + k * 11) % 9000),
      qty: 1 + ((id + k) % 4),
      sku: `SKU-${(id * 7 + k) % 1000}`,
    }));
    const order = { customer: `customer-${id % 97}`, id, items };
    size += JSON.stringify(order).length + 1;
    orders.push(order);
  }
  return JSON.stringify({ orders, workload: 'transform' });
}

/** The event bytes of each workload. */
export function workloadEvent(name: WorkloadName, env: WorkloadEnvironment = {}): Buffer {
  switch (name) {
    case 'echo-1kb':
      return Buffer.from(echoEvent());
    case 'transform-1mb':
      return Buffer.from(transformEvent());
    case 'sieve':
      return Buffer.from(JSON.stringify({ limit: 5_000_000, workload: 'sieve' }));
    case 'http-get':
      return Buffer.from(JSON.stringify({ url: env.httpUrl ?? 'http://127.0.0.1:9/' }));
    case 'aws-getitem':
      return Buffer.from(JSON.stringify({ id: 'bench-1', table: env.table ?? 'bench' }));
    case 'cold-start':
      return Buffer.from(JSON.stringify({ workload: 'blob' }));
  }
}

/** The 700 KiB the workloads crate embeds (its build.rs), for the Node.js twin to load rather than build. */
export function blobBytes(): Uint8Array {
  const blob = new Uint8Array(700 * 1024);
  let state = 0x9e3779b9;
  for (let i = 0; i < blob.length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    blob[i] = state >>> 24;
  }
  return blob;
}
