#![cfg(not(target_family = "wasm"))]
//! `wasi_lambda::run` natively, against a fake Lambda Runtime API on loopback: the same
//! error bodies as the wasm build (lambda_runtime's wording for a bad payload, the
//! `IntoDiagnostic` errorType rule, `Runtime.Panic`), and timers that overlap.

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        mpsc::{self, Sender},
    },
    thread,
    time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::{Value, json};
use wasi_lambda::{
    runtime::{Error, LambdaEvent, service_fn},
    time::sleep,
};

/// What the handler posted: `response` or `error`, and the body.
type Posted = (String, Value);

/// Serves `/next` from `events` (then holds the request open forever) and reports each
/// posted response or error.
fn fake_runtime_api(events: Vec<Value>, posted: Sender<Posted>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let events = Arc::new(Mutex::new(VecDeque::from(events)));
    thread::spawn(move || {
        for stream in listener.incoming() {
            let (events, posted) = (Arc::clone(&events), posted.clone());
            thread::spawn(move || serve_connection(stream.unwrap(), &events, &posted));
        }
    });
    address
}

fn serve_connection(stream: TcpStream, events: &Mutex<VecDeque<Value>>, posted: &Sender<Posted>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut served = 0;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header == "\r\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let path = request_line
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        if path.ends_with("/invocation/next") {
            let Some(event) = events.lock().unwrap().pop_front() else {
                thread::park(); // no more events: keep the runtime waiting
                return;
            };
            served += 1;
            let body = event.to_string();
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 5_000;
            write!(
                writer,
                "HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: req-{served}\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:eu-west-1:1:function:f\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        } else {
            let kind = path.rsplit('/').next().unwrap_or_default().to_owned();
            posted
                .send((kind, serde_json::from_slice(&body).unwrap_or(Value::Null)))
                .unwrap();
            writer
                .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
enum Action {
    Overlap { ms: u64 },
    Text { text: String },
    Chosen,
    Panic,
}

async fn handler(event: LambdaEvent<Action>) -> Result<Value, Error> {
    let start = Instant::now();
    match event.payload {
        Action::Overlap { ms } => {
            futures::join!(
                sleep(Duration::from_millis(ms)),
                sleep(Duration::from_millis(ms))
            );
            Ok(json!({ "elapsedMs": start.elapsed().as_millis() as u64 }))
        }
        Action::Text { text } => Err(text.into()),
        Action::Chosen => Err(wasi_lambda::Error::new("Retryable", "busy").into_boxed()),
        Action::Panic => panic!("boom"),
    }
}

#[test]
fn run_serves_lambda_runtime_with_the_wasm_builds_error_bodies() {
    let bad = json!({ "action": "overlap", "ms": "soon" });
    let events = vec![
        json!({ "action": "overlap", "ms": 200 }),
        bad.clone(),
        json!({ "action": "text", "text": "no" }),
        json!({ "action": "chosen" }),
        json!({ "action": "panic" }),
    ];
    let count = events.len();
    let (tx, rx) = mpsc::channel();
    let address = fake_runtime_api(events, tx);
    // SAFETY: set before this test (the only one in its binary) starts any thread that reads
    // the environment.
    unsafe {
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", &address);
        std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "f");
        std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    }
    thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(wasi_lambda::run(service_fn(handler)))
    });
    let posted: Vec<Posted> = (0..count)
        .map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect();

    let (kind, body) = &posted[0];
    assert_eq!(kind, "response");
    let elapsed = body["elapsedMs"].as_u64().unwrap();
    assert!(
        (200..350).contains(&elapsed),
        "two 200 ms sleeps took {elapsed} ms"
    );

    // lambda_runtime decoded this one; the wasm build's decoder must word it identically.
    let expected = wasi_lambda::__private::decode_payload::<Action>(bad.to_string().as_bytes())
        .err()
        .unwrap();
    assert_eq!(posted[1].0, "error");
    assert_eq!(posted[1].1["errorType"], expected.error_type());
    assert_eq!(posted[1].1["errorMessage"], expected.message());
    assert_eq!(
        posted[1].1["errorType"],
        "&lambda_runtime::deserializer::DeserializeError"
    );

    assert_eq!(
        posted[2].1,
        json!({
            "errorType": "&alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>",
            "errorMessage": "no",
        })
    );
    assert_eq!(
        posted[3].1,
        json!({ "errorType": "Retryable", "errorMessage": "busy" })
    );
    assert_eq!(posted[4].1["errorType"], "Runtime.Panic");
    let message = posted[4].1["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with("panicked at crates/wasi-lambda/tests/native_run.rs:")
            && message.ends_with(": boom"),
        "{message}"
    );
}
