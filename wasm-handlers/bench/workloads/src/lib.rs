//! The benchmark handler. Each workload has a twin in `baselines/node/workloads.mjs` that
//! answers byte for byte the same, so every variant is checked before it is timed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasi_lambda::runtime::{Error, LambdaEvent};

// The native baseline a performance-minded Rust user ships: mimalloc rather than musl's
// malloc (the bench builds both, so the allocator's share is visible).
#[cfg(all(feature = "mimalloc", not(target_family = "wasm")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/blob.bin"));

/// One benchmark workload.
#[derive(Deserialize)]
#[serde(tag = "workload", rename_all = "kebab-case")]
pub enum Workload {
    /// Answer the payload as it came.
    Echo {
        /// Any JSON, about 1 KB in the benchmark.
        payload: Value,
    },
    /// Total a batch of orders per customer and return every order priced.
    Transform {
        /// About 1 MB of orders in the benchmark.
        orders: Vec<Order>,
    },
    /// Count the primes below `limit` (sieve of Eratosthenes).
    Sieve {
        /// Exclusive upper bound.
        limit: usize,
    },
    /// Touch the embedded data: the cold-start workload.
    Blob,
}

/// An order line.
#[derive(Deserialize, Serialize)]
pub struct Item {
    sku: String,
    qty: u32,
    cents: u64,
}

/// An order.
#[derive(Deserialize)]
pub struct Order {
    id: u64,
    customer: String,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct Priced<'a> {
    id: u64,
    customer: &'a str,
    total: u64,
    lines: usize,
}

#[derive(Serialize)]
struct TransformResult<'a> {
    customers: BTreeMap<&'a str, u64>,
    orders: Vec<Priced<'a>>,
}

fn sieve(limit: usize) -> usize {
    if limit < 3 {
        return usize::from(limit == 2);
    }
    let mut composite = vec![false; limit];
    let mut count = 0;
    for n in 2..limit {
        if !composite[n] {
            count += 1;
            // n * n overflows a 32-bit usize (wasm32) long before n reaches the limit.
            if n > (limit - 1) / n {
                continue;
            }
            let mut multiple = n * n;
            while multiple < limit {
                composite[multiple] = true;
                multiple += n;
            }
        }
    }
    count
}

/// FNV-1a over the blob, so the data cannot be optimised away.
fn blob_checksum() -> u32 {
    BLOB.iter().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

/// Runs one workload: what every variant times, natively called directly by the in-process
/// bench (`wasm-handlers/bench/inprocess`).
pub fn run(event: Workload) -> Result<Value, Error> {
    Ok(match event {
        Workload::Echo { payload } => payload,
        Workload::Transform { orders } => {
            let mut customers = BTreeMap::new();
            let priced: Vec<Priced> = orders
                .iter()
                .map(|order| {
                    let total = order.items.iter().map(|i| i.cents * u64::from(i.qty)).sum();
                    *customers.entry(order.customer.as_str()).or_insert(0) += total;
                    Priced {
                        id: order.id,
                        customer: &order.customer,
                        total,
                        lines: order.items.len(),
                    }
                })
                .collect();
            serde_json::to_value(TransformResult {
                customers,
                orders: priced,
            })?
        }
        Workload::Sieve { limit } => serde_json::json!({ "primes": sieve(limit) }),
        Workload::Blob => serde_json::json!({ "bytes": BLOB.len(), "fnv1a": blob_checksum() }),
    })
}

/// The handler in lambda_runtime's shape: natively `lambda_runtime::run` serves it directly,
/// with no JSON pass of the SDK's own.
#[wasi_lambda::handler]
pub async fn workloads(event: LambdaEvent<Workload>) -> Result<Value, Error> {
    run(event.payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sieve_counts_primes() {
        assert_eq!(sieve(10), 4);
        assert_eq!(sieve(1_000_000), 78_498);
        assert_eq!(sieve(5_000_000), 348_513);
    }

    #[test]
    fn the_blob_is_deterministic() {
        assert_eq!(BLOB.len(), 700 * 1024);
        // The xorshift32 stream of build.rs, hashed; baselines/node/workloads.mjs answers the
        // same value, so a change to either generator fails here.
        assert_eq!(blob_checksum(), 0x8e52_47b8);
    }
}
