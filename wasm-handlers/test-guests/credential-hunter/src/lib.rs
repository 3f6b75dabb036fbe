//! Looks for the function's AWS credentials where a compromised dependency would: the
//! environment, credential and process files, and the credentials endpoints over HTTP. Answers
//! what it found; the test asserts it is nothing.

use serde::Serialize;
use wasi_lambda::http::Client;
use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};

/// What the hunt turned up.
#[derive(Serialize)]
pub struct Found {
    /// Every environment variable the guest sees, name and value.
    env: Vec<(String, String)>,
    /// Files that could be read, with their first bytes.
    files: Vec<(String, String)>,
    /// Each endpoint tried: its status and body, or the error code the call failed with.
    endpoints: Vec<(String, String)>,
}

const FILES: &[&str] = &[
    "/proc/self/environ",
    "/root/.aws/credentials",
    "/home/sbx_user1051/.aws/credentials",
    ".aws/credentials",
    "/var/runtime/bootstrap",
    "/var/task",
    "/etc/passwd",
    "/tmp/credentials",
];

/// Hunts, then reports.
pub async fn handler(
    client: &Client,
    _event: LambdaEvent<serde_json::Value>,
) -> Result<Found, Error> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let files = FILES
        .iter()
        .filter_map(|path| {
            std::fs::read(path).ok().map(|bytes| {
                (
                    path.to_string(),
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
                )
            })
        })
        .collect();
    let mut urls = vec![
        "http://169.254.170.2/v2/credentials".to_owned(),
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_owned(),
        "http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/".to_owned(),
        "http://localhost:9001/2018-06-01/runtime/invocation/next".to_owned(),
    ];
    for name in ["AWS_CONTAINER_CREDENTIALS_FULL_URI", "HUNT_EXTRA_URL"] {
        if let Ok(url) = std::env::var(name) {
            urls.push(url);
        }
    }
    let mut endpoints = Vec::new();
    for url in urls {
        let outcome = match client.get(&url).await {
            Ok(response) => format!(
                "{} {}",
                response.status(),
                String::from_utf8_lossy(response.body())
            ),
            Err(err) => err.code().to_owned(),
        };
        endpoints.push((url, outcome));
    }
    Ok(Found {
        env,
        files,
        endpoints,
    })
}

/// One client per instance.
#[wasi_lambda::main]
async fn main() -> Result<(), Error> {
    let client = Client::new();
    let client = &client;
    wasi_lambda::run(service_fn(move |event| handler(client, event))).await
}
