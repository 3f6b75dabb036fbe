import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { formatLogLine, parseLogFormat } from '../src/logging/log-format.js';
import { endLine, reportLine, startLine } from '../src/logging/report.js';
import { VERSION } from '../src/version.js';

const at = new Date('2026-11-22T14:20:25.123Z');

describe('Lambda log lines', () => {
  it('text records are timestamp, request id, level and message separated by tabs', () => {
    expect(formatLogLine('text', 'INFO', 'req-1', 'hello', at)).toBe('2026-11-22T14:20:25.123Z\treq-1\tINFO\thello\n');
  });

  it('text records keep one record per line', () => {
    expect(formatLogLine('text', 'ERROR', 'req-1', 'a\nb', at)).toBe('2026-11-22T14:20:25.123Z\treq-1\tERROR\ta\rb\n');
  });

  it('JSON records carry the same fields and escape the message', () => {
    const line = formatLogLine('json', 'WARN', 'req-2', 'quote " and \\', at);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      timestamp: '2026-11-22T14:20:25.123Z',
      level: 'WARN',
      requestId: 'req-2',
      message: 'quote " and \\',
    });
  });

  it('accepts the log format spellings Lambda uses', () => {
    expect(parseLogFormat('JSON', 'x')).toBe('json');
    expect(parseLogFormat('Text', 'x')).toBe('text');
    expect(parseLogFormat(undefined, 'x')).toBe('text');
    expect(() => parseLogFormat('yaml', 'AWS_LAMBDA_LOG_FORMAT')).toThrow(
      /AWS_LAMBDA_LOG_FORMAT is "yaml"; use Text or JSON/,
    );
  });

  it('START, END and REPORT lines use Lambda wording and round billed duration up', () => {
    expect(startLine('r', '$LATEST')).toBe('START RequestId: r Version: $LATEST\n');
    expect(endLine('r')).toBe('END RequestId: r\n');
    expect(
      reportLine({ requestId: 'r', durationMs: 1.234, memorySizeMb: 128, maxMemoryUsedMb: 43, initDurationMs: 31.2 }),
    ).toBe(
      'REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 43 MB\tInit Duration: 31.20 ms\t\n',
    );
    expect(reportLine({ requestId: 'r', durationMs: 0.2, memorySizeMb: 512, maxMemoryUsedMb: 60 })).toBe(
      'REPORT RequestId: r\tDuration: 0.20 ms\tBilled Duration: 1 ms\tMemory Size: 512 MB\tMax Memory Used: 60 MB\t\n',
    );
  });

  it('the version in reports matches package.json', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
