//! {{name}}: consumes an SQS queue. Each message body is an order, `{"orderId":"42","total":1250}`;
//! a message that is not one is reported back as a batch item failure, so SQS retries only
//! that message (the event source mapping needs `FunctionResponseTypes: [ReportBatchItemFailures]`).

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde::Deserialize;
use wasi_lambda::{Context, Error};

/// One message's body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    order_id: String,
    total: u64,
}

/// Handles a batch; answers the messages that failed.
#[wasi_lambda::handler]
pub fn handler(event: SqsEvent, _ctx: Context) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        if let Err(err) = process(&message) {
            let id = message.message_id.unwrap_or_default();
            eprintln!("message {id} failed: {err}");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

fn process(message: &SqsMessage) -> Result<(), Error> {
    let order: Order = serde_json::from_str(message.body.as_deref().unwrap_or_default())?;
    println!("order {} for {} cents", order.order_id, order.total);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, body: &str) -> SqsMessage {
        let mut message = SqsMessage::default();
        message.message_id = Some(id.into());
        message.body = Some(body.into());
        message
    }

    #[test]
    fn reports_only_the_messages_that_failed() {
        let mut event = SqsEvent::default();
        event.records = vec![
            message("good", r#"{"orderId":"42","total":1250}"#),
            message("bad", "not an order"),
        ];
        let response = handler(event, Context::default()).unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["bad"]);
    }
}
