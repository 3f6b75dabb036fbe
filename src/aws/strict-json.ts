const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The position after the string literal that opens at `start` (a `"`), in valid JSON. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  while (at < text.length) {
    const char = text[at];
    if (char === '\\') at += 2;
    else if (char === '"') return at + 1;
    else at += 1;
  }
  return at;
}

/** Whether some object in valid JSON text has the same key twice (after unescaping). */
function hasDuplicateKey(text: string): boolean {
  const objects: (Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let at = 0; at < text.length; ) {
    const char = text[at];
    if (char === '"') {
      const end = stringEnd(text, at);
      const keys = objects.at(-1);
      if (expectKey && keys !== undefined) {
        const key = JSON.parse(text.slice(at, end)) as string;
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      at = end;
      continue;
    }
    if (char === '{') {
      objects.push(new Set());
      expectKey = true;
    } else if (char === '[') objects.push(undefined);
    else if (char === '}' || char === ']') objects.pop();
    else if (char === ',') expectKey = objects.at(-1) !== undefined;
    at += 1;
  }
  return false;
}

/**
 * A request body as JSON, or `undefined` when it is not valid UTF-8 and JSON, or when an
 * object repeats a key. Parsers disagree on repeats (first or last wins), so a body with
 * `"TableName"` twice could name one table to the host and another to the service.
 *
 * ```ts
 * parseStrictJson(new TextEncoder().encode('{"TableName":"a","TableName":"b"}')); // undefined
 * ```
 */
export function parseStrictJson(body: Uint8Array | undefined): unknown {
  try {
    const text = UTF8.decode(body ?? new Uint8Array());
    const value: unknown = JSON.parse(text);
    return hasDuplicateKey(text) ? undefined : value;
  } catch {
    return undefined;
  }
}
