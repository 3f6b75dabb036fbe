// The aws-getitem bench handler (wasm-handlers/bench/aws-getitem) as a plain Node.js handler:
// the same event and the same answer, on the AWS SDK for JavaScript v3 that Lambda's Node.js
// runtimes ship, with the client built once at load as the Rust one is built at init.

import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({});

export const handler = async (event) => {
  const { Item } = await client.send(new GetItemCommand({ TableName: event.table, Key: { id: { S: event.id } } }));
  if (Item === undefined) return null;
  // The Rust handler answers a BTreeMap: string and number attributes, sorted by name.
  const answer = {};
  for (const name of Object.keys(Item).sort()) {
    const value = Item[name];
    if (value.S !== undefined) answer[name] = value.S;
    else if (value.N !== undefined) answer[name] = value.N;
  }
  return answer;
};
