import { describe, expect, it } from 'vitest';
import { GuestOutput, type GuestStream, MAX_LINE_BYTES } from '../src/host/guest-output.js';

function collector() {
  const lines: [GuestStream, string][] = [];
  const output = new GuestOutput((stream, line) => lines.push([stream, line]));
  const write = (stream: GuestStream, text: string | Uint8Array) =>
    output.write(stream, typeof text === 'string' ? new TextEncoder().encode(text) : text);
  return { lines, output, write };
}

describe('GuestOutput', () => {
  it('emits each complete line as soon as it is written', () => {
    const { lines, write } = collector();
    write('stdout', 'one\ntwo\nthr');
    expect(lines).toEqual([
      ['stdout', 'one'],
      ['stdout', 'two'],
    ]);
    write('stdout', 'ee\n');
    expect(lines.at(-1)).toEqual(['stdout', 'three']);
  });

  it('keeps stdout and stderr partial lines apart', () => {
    const { lines, write, output } = collector();
    write('stdout', 'out-');
    write('stderr', 'err-');
    write('stdout', 'a\n');
    output.flush();
    expect(lines).toEqual([
      ['stdout', 'out-a'],
      ['stderr', 'err-'],
    ]);
  });

  it('joins a multi-byte character split across writes', () => {
    const { lines, write } = collector();
    const bytes = new TextEncoder().encode('é\n');
    write('stdout', bytes.subarray(0, 1));
    write('stdout', bytes.subarray(1));
    expect(lines).toEqual([['stdout', 'é']]);
  });

  it('replaces invalid UTF-8 instead of failing', () => {
    const { lines, write } = collector();
    write('stderr', new Uint8Array([0x61, 0xff, 0x62, 0x0a]));
    expect(lines).toEqual([['stderr', 'a\uFFFDb']]);
  });

  it('drops the CR of a CRLF line ending and keeps empty lines', () => {
    const { lines, write } = collector();
    write('stdout', 'dos\r\n\n');
    expect(lines).toEqual([
      ['stdout', 'dos'],
      ['stdout', ''],
    ]);
  });

  it('splits a line longer than a CloudWatch event without losing bytes', () => {
    const { lines, write, output } = collector();
    write('stdout', `${'x'.repeat(MAX_LINE_BYTES + 10)}\n`);
    output.flush();
    expect(lines.map(([, line]) => line.length)).toEqual([MAX_LINE_BYTES, 10]);
  });

  it('copies bytes, so later changes to guest memory do not alter a pending line', () => {
    const { lines, write, output } = collector();
    const buffer = new TextEncoder().encode('abc');
    write('stdout', buffer);
    buffer.fill(0x7a);
    output.flush();
    expect(lines).toEqual([['stdout', 'abc']]);
  });
});

describe('GuestOutput bounds', () => {
  it('holds at most one line per stream and copies each byte once, however the guest slices its writes', () => {
    const { lines, write, output } = collector();
    // 8 MiB with no newline, written one byte at a time: quadratic buffering or one object per
    // write would take minutes or gigabytes; the bounded buffer takes well under a second.
    const one = new Uint8Array([0x61]);
    const started = performance.now();
    for (let i = 0; i < 8 * 2 ** 20; i++) write('stdout', one);
    output.flush();
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(lines).toHaveLength((8 * 2 ** 20) / MAX_LINE_BYTES);
    expect(lines.every(([, line]) => line.length === MAX_LINE_BYTES)).toBe(true);
  });
});
