// The fetch example (wasm-handlers/examples/fetch) as a plain Node.js handler: the same event
// and the same response, on Node.js's own fetch (keep-alive by default).

export const handler = async (event) => {
  const response = await fetch(event.url, { method: event.method ?? 'GET', body: event.body });
  return { status: response.status, body: await response.text() };
};
