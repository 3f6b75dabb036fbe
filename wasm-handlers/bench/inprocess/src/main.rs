//! The native in-process figure of `wasi-lambda bench`: the same handler functions the
//! `bootstrap` serves, called here directly with the event's bytes, as lambda_runtime calls
//! them after reading the body: `serde_json::from_slice` into the event type, the handler,
//! `serde_json::to_vec` of the response. No Runtime API, no HTTP, no process hop.
//!
//! ```text
//! bench-inprocess HANDLER EVENT_FILE SAMPLES WARMUP
//! ```
//!
//! `HANDLER` is `workloads` or `fetch`. Prints one JSON object: the response of the last call
//! (so the bench can check it against the other variants) and every sample in nanoseconds.

#[cfg(not(target_family = "wasm"))]
fn main() {
    native::main();
}

/// Nothing to measure in a wasm build; the crate is a workspace member only for its lints.
#[cfg(target_family = "wasm")]
fn main() {}

#[cfg(not(target_family = "wasm"))]
mod native {
    use std::{hint::black_box, process::exit, time::Instant};

    use wasi_lambda::{
        http::Client,
        runtime::{Context, Error, LambdaEvent},
    };

    fn fail(message: impl std::fmt::Display) -> ! {
        eprintln!("bench-inprocess: {message}");
        exit(2);
    }

    /// One invocation, bytes in and bytes out, as lambda_runtime does it.
    async fn invoke(handler: &str, client: &Client, event: &[u8]) -> Result<Vec<u8>, Error> {
        match handler {
            "workloads" => {
                let payload = serde_json::from_slice(event)?;
                let response =
                    workloads::workloads(LambdaEvent::new(payload, Context::default())).await?;
                Ok(serde_json::to_vec(&response)?)
            }
            "fetch" => {
                let payload = serde_json::from_slice(event)?;
                let response =
                    fetch::handler(client, LambdaEvent::new(payload, Context::default())).await?;
                Ok(serde_json::to_vec(&response)?)
            }
            other => fail(format!(
                "unknown handler {other}; expected workloads or fetch"
            )),
        }
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().collect();
        let [_, handler, path, samples, warmup] = args.as_slice() else {
            fail("usage: bench-inprocess HANDLER EVENT_FILE SAMPLES WARMUP");
        };
        let event = std::fs::read(path).unwrap_or_else(|err| fail(format!("{path}: {err}")));
        let count = |text: &str| {
            text.parse::<usize>()
                .unwrap_or_else(|err| fail(format!("{text}: {err}")))
        };
        let (samples, warmup) = (count(samples), count(warmup));
        // One thread, as the bootstrap's lambda_runtime runs: a current-thread runtime.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|err| fail(err));
        let client = Client::new();
        let mut nanos = Vec::with_capacity(samples);
        let mut last = Vec::new();
        runtime.block_on(async {
            for i in 0..warmup + samples {
                let started = Instant::now();
                let response = invoke(handler, &client, black_box(&event)).await;
                let elapsed = started.elapsed();
                match response {
                    Ok(bytes) => last = bytes,
                    Err(err) => fail(format!("the handler failed: {err}")),
                }
                if i >= warmup {
                    nanos.push(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
                }
            }
        });
        let response = String::from_utf8(last).unwrap_or_else(|err| fail(err));
        let report = serde_json::json!({ "response": response, "nanos": nanos });
        println!("{report}");
    }
}
