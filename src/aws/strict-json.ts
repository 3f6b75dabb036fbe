const UTF8 = new TextDecoder('utf-8', { fatal: true });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** The position after the string literal that opens at `start` (a `"`), in valid JSON. */
function stringEnd(text: string, start: number): number {
  let at = text.indexOf('"', start + 1);
  // A quote preceded by an odd number of backslashes is escaped.
  while (at > 0) {
    let slashes = 0;
    while (text.charCodeAt(at - 1 - slashes) === BACKSLASH) slashes += 1;
    if (slashes % 2 === 0) return at + 1;
    at = text.indexOf('"', at + 1);
  }
  return text.length;
}

/** An array on the nesting stack; an object is `null` (no key yet), its one key, or its keys. */
const ARRAY = Symbol('array');

/** Whether some object in valid JSON text has the same key twice (after unescaping). */
function hasDuplicateKey(text: string): boolean {
  // Most objects in AWS requests hold one key ({"S": "…"}): no Set is made for those.
  const stack: (typeof ARRAY | null | string | Set<string>)[] = [];
  let expectKey = false;
  for (let at = 0; at < text.length; ) {
    const char = text.charCodeAt(at);
    if (char === QUOTE) {
      const end = stringEnd(text, at);
      if (expectKey) {
        const raw = text.slice(at + 1, end - 1);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        const keys = stack.at(-1);
        if (keys === null) stack[stack.length - 1] = key;
        else if (typeof keys === 'string') {
          if (keys === key) return true;
          stack[stack.length - 1] = new Set([keys, key]);
        } else if (keys instanceof Set) {
          if (keys.has(key)) return true;
          keys.add(key);
        }
        expectKey = false;
      }
      at = end;
      continue;
    }
    if (char === OPEN_OBJECT) {
      stack.push(null);
      expectKey = true;
    } else if (char === OPEN_ARRAY) stack.push(ARRAY);
    else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) stack.pop();
    else if (char === COMMA) expectKey = stack.at(-1) !== ARRAY;
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
