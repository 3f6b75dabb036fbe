import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/build/zip.js';
import { bootstrapPath } from './support/handlers.js';

/** Reads the single entry of a zip written by src/build/zip.ts, checking its headers. */
function readSingleEntryZip(path: string) {
  const zip = readFileSync(path);
  expect(zip.readUInt32LE(0)).toBe(0x04034b50);
  const nameLength = zip.readUInt16LE(26);
  const compressedSize = zip.readUInt32LE(18);
  const name = zip.subarray(30, 30 + nameLength).toString();
  const data = inflateRawSync(zip.subarray(30 + nameLength, 30 + nameLength + compressedSize));
  const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const mode = (zip.readUInt32LE(central + 38) >>> 16) & 0o777;
  return { name, data, mode, crc: zip.readUInt32LE(14) };
}

describe('the native bootstrap built from the same handler source', () => {
  it('is a fully static x86-64 executable', () => {
    const description = execFileSync('file', [bootstrapPath('hello')], { encoding: 'utf8' });
    expect(description).toMatch(/ELF 64-bit LSB .*x86-64/);
    expect(description).toMatch(/static(-pie)? linked|statically linked/);
    expect(description).not.toMatch(/interpreter/);
  });

  it('explains itself and exits non-zero when started outside Lambda', () => {
    let status = 0;
    let stderr = '';
    try {
      execFileSync(bootstrapPath('hello'), { env: {}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      ({ status, stderr } = err as { status: number; stderr: string });
    }
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/AWS_LAMBDA_RUNTIME_API is not set\. This bootstrap runs inside AWS Lambda/);
  });

  it('is zipped alone as an executable `bootstrap`', () => {
    const zipPath = bootstrapPath('hello').replace(/\/hello\/bootstrap$/, '/hello.zip');
    const entry = readSingleEntryZip(zipPath);
    expect(entry.name).toBe('bootstrap');
    expect(entry.mode).toBe(0o755);
    expect(entry.data.equals(readFileSync(bootstrapPath('hello')))).toBe(true);
    expect(entry.crc).toBe(crc32(entry.data));
    const listing = execFileSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' });
    expect(listing).toBe('bootstrap\n');
  });
});
