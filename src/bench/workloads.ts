/** The benchmark's events: deterministic, with keys in sorted order and integer numbers so
 * that serde_json (wasm, native) and JSON.stringify (Node.js) answer byte for byte alike. */

export type WorkloadName = 'echo-1kb' | 'transform-1mb' | 'sieve' | 'cold-start';
export const WORKLOADS: readonly WorkloadName[] = ['echo-1kb', 'transform-1mb', 'sieve', 'cold-start'];

export const WORKLOAD_TITLES: Record<WorkloadName, string> = {
  'echo-1kb': 'warm 1 KB echo',
  'transform-1mb': '1 MB JSON transform',
  sieve: 'compute: primes below 5,000,000',
  'cold-start': 'cold start, ~1 MB module (process start to first response)',
};

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
export function workloadEvent(name: WorkloadName): Buffer {
  switch (name) {
    case 'echo-1kb':
      return Buffer.from(echoEvent());
    case 'transform-1mb':
      return Buffer.from(transformEvent());
    case 'sieve':
      return Buffer.from(JSON.stringify({ limit: 5_000_000, workload: 'sieve' }));
    case 'cold-start':
      return Buffer.from(JSON.stringify({ workload: 'blob' }));
  }
}
