// The benchmark workloads as a plain Node.js handler: the same algorithms as
// wasm-handlers/bench/workloads, answering byte for byte the same JSON.

import { readFileSync } from 'node:fs';

const BLOB_BYTES = 700 * 1024;

// The same xorshift32 stream as the Rust build script.
function generateBlob() {
  const blob = new Uint8Array(BLOB_BYTES);
  let state = 0x9e3779b9;
  for (let i = 0; i < BLOB_BYTES; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    blob[i] = state >>> 24;
  }
  return blob;
}

// The Rust module carries the blob as data it loads with its code. `wasi-lambda bench` writes
// the same bytes to blob.bin beside this file, so Node.js loads them too rather than building
// them at load time (which would inflate its cold start); without blob.bin it builds them.
function loadBlob() {
  try {
    return new Uint8Array(readFileSync(new URL('./blob.bin', import.meta.url)));
  } catch {
    return generateBlob();
  }
}

const blob = loadBlob();

function fnv1a(bytes) {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

function sieve(limit) {
  if (limit < 3) return limit === 2 ? 1 : 0;
  const composite = new Uint8Array(limit);
  let count = 0;
  for (let n = 2; n < limit; n++) {
    if (!composite[n]) {
      count++;
      for (let multiple = n * n; multiple < limit; multiple += n) composite[multiple] = 1;
    }
  }
  return count;
}

function transform(orders) {
  const customers = new Map();
  const priced = orders.map((order) => {
    const total = order.items.reduce((sum, item) => sum + item.cents * item.qty, 0);
    customers.set(order.customer, (customers.get(order.customer) ?? 0) + total);
    // Keys in the order serde_json writes them (sorted), so the bytes match the Rust build.
    return { customer: order.customer, id: order.id, lines: order.items.length, total };
  });
  const sorted = Object.fromEntries([...customers.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { customers: sorted, orders: priced };
}

export const handler = async (event) => {
  switch (event.workload) {
    case 'echo':
      return event.payload;
    case 'transform':
      return transform(event.orders);
    case 'sieve':
      return { primes: sieve(event.limit) };
    case 'blob':
      return { bytes: blob.length, fnv1a: fnv1a(blob) };
    default:
      throw new Error(`unknown workload ${event.workload}`);
  }
};
