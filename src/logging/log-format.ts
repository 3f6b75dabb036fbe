import { WasiLambdaError } from '../errors.js';

/** Lambda's two log formats (`AWS_LAMBDA_LOG_FORMAT`). */
export type LogFormat = 'text' | 'json';
export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

export function parseLogFormat(value: string | undefined, source: string): LogFormat {
  if (value === undefined || value === '') return 'text';
  const lower = value.toLowerCase();
  if (lower === 'text' || lower === 'json') return lower;
  throw new WasiLambdaError('INVALID_CONFIG', `${source} is "${value}"; use Text or JSON`);
}

/**
 * One application log record, formatted as the managed Node.js runtime writes it:
 * `timestamp\trequestId\tLEVEL\tmessage` in text mode, one JSON object in JSON mode.
 *
 * ```ts
 * formatLogLine('text', 'INFO', 'c6af9ac6-…', 'greeting Ada');
 * // '2026-11-22T14:20:25.123Z\tc6af9ac6-…\tINFO\tgreeting Ada\n'
 * ```
 */
export function formatLogLine(
  format: LogFormat,
  level: LogLevel,
  requestId: string | undefined,
  message: string,
  now: Date = new Date(),
): string {
  const timestamp = now.toISOString();
  if (format === 'json') {
    const record: Record<string, string> = { timestamp, level, message };
    if (requestId !== undefined) record.requestId = requestId;
    return `${JSON.stringify(record)}\n`;
  }
  // The runtime keeps one record per line: embedded newlines become carriage returns.
  return `${timestamp}\t${requestId ?? 'undefined'}\t${level}\t${message.replaceAll('\n', '\r')}\n`;
}
