//! Bench workload `aws-getitem`: one DynamoDB `GetItem` per invocation, the client built once.
//! Event `{"id": "bench-1", "table": "bench"}`; answers the item's string and number attributes
//! as a JSON object (`null` when there is no such item).

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;
use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};

/// Which item to read.
#[derive(Deserialize)]
pub struct Key {
    id: String,
    table: String,
}

/// Reads the item.
pub async fn handler(
    client: &aws_sdk_dynamodb::Client,
    event: LambdaEvent<Key>,
) -> Result<Option<BTreeMap<String, String>>, Error> {
    let Key { id, table } = event.payload;
    let output = client
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(id))
        .send()
        .await?;
    Ok(output.item.map(|item| {
        item.into_iter()
            .filter_map(|(name, value)| match value {
                AttributeValue::S(text) | AttributeValue::N(text) => Some((name, text)),
                _ => None,
            })
            .collect()
    }))
}

/// Init: the SDK configuration and the client, once per instance.
#[wasi_lambda::main]
async fn main() -> Result<(), Error> {
    let config = wasi_lambda::aws::config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let client = &client;
    wasi_lambda::run(service_fn(move |event| handler(client, event))).await
}
