//! Orders from SQS: for each record, the parsed order goes into DynamoDB (`ORDERS_TABLE`,
//! partition key `id`), the raw body into S3 (`ORDERS_BUCKET`, key `orders/<id>.json`), and a
//! POST to `WEBHOOK_URL` announces it. A record that fails any step is named in the
//! `SQSBatchResponse`, so SQS retries only that record (partial batch response).
//!
//! As wasm the AWS calls are signed by the host with the function's credentials, under the
//! grant `WASI_LAMBDA_AWS=dynamodb:table/<table>,s3:<bucket>`; the webhook's host must be in
//! `WASI_LAMBDA_ALLOW_HOSTS`. Natively the same source uses the role's credentials directly.

use std::collections::HashMap;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use serde::Deserialize;
use wasi_lambda::http::Client;
use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};

/// An order as the producer writes it into the SQS message body.
#[derive(Debug, Deserialize)]
pub struct Order {
    /// The order's id: the table's partition key and the object's name.
    pub id: String,
    /// Who ordered.
    pub customer: String,
    /// The amount, kept exactly as written (a DynamoDB number is decimal text).
    pub total: serde_json::Number,
}

/// What `main` builds once per instance.
pub struct Orders {
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    http: Client,
    table: String,
    bucket: String,
    webhook: String,
}

impl Orders {
    /// Clients from the SDK configuration, destinations from the environment.
    pub fn new(config: &wasi_lambda::aws::SdkConfig) -> Result<Self, Error> {
        let var = |name: &str| {
            std::env::var(name)
                .map_err(|_| format!("{name} is not set; grant it with WASI_LAMBDA_ENV"))
        };
        // S3 through a custom endpoint (moto, LocalStack) needs path-style addressing.
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(std::env::var_os("AWS_ENDPOINT_URL").is_some())
            .build();
        Ok(Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            http: Client::new(),
            table: var("ORDERS_TABLE")?,
            bucket: var("ORDERS_BUCKET")?,
            webhook: var("WEBHOOK_URL")?,
        })
    }

    /// One record: store, archive, announce. Any failure fails only this record.
    async fn process(&self, record: &SqsMessage) -> Result<(), Error> {
        let body = record.body.as_deref().ok_or("the record has no body")?;
        let order: Order = serde_json::from_str(body)?;
        let item = HashMap::from([
            ("id".to_owned(), AttributeValue::S(order.id.clone())),
            (
                "customer".to_owned(),
                AttributeValue::S(order.customer.clone()),
            ),
            (
                "total".to_owned(),
                AttributeValue::N(order.total.to_string()),
            ),
        ]);
        self.dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(format!("orders/{}.json", order.id))
            .content_type("application/json")
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await?;
        let notice = serde_json::json!({ "id": order.id, "status": "stored" });
        let response = self.http.post(&self.webhook, notice.to_string()).await?;
        if !response.status().is_success() {
            return Err(format!("the webhook answered {}", response.status()).into());
        }
        Ok(())
    }
}

/// Processes every record of the batch concurrently and names the ones that failed.
pub async fn handler(
    orders: &Orders,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    let records = &event.payload.records;
    let outcomes =
        futures::future::join_all(records.iter().map(|record| orders.process(record))).await;
    let mut response = SqsBatchResponse::default();
    for (record, outcome) in records.iter().zip(outcomes) {
        if let Err(err) = outcome {
            let id = record.message_id.clone().unwrap_or_default();
            eprintln!("order in message {id} failed: {err}");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

/// Init: the SDK configuration and the clients, once per instance.
#[wasi_lambda::main]
async fn main() -> Result<(), Error> {
    let config = wasi_lambda::aws::config().await;
    let orders = Orders::new(&config)?;
    let orders = &orders;
    wasi_lambda::run(service_fn(move |event| handler(orders, event))).await
}
