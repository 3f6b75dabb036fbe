/**
 * The child process of `PinnedRunner`: reads one `InProcessJob` from the JSON file named by
 * its first argument, runs it, and writes `{ answer }` or `{ error: { code, message } }` as
 * JSON to the file named by its second. (A file, not stdout: what a guest or an SDK prints
 * must not corrupt the answer.)
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { toError, WasiLambdaError } from '../errors.js';
import { type InProcessJob, runInProcessJob } from './in-process-jobs.js';

const [jobFile, answerFile] = process.argv.slice(2);
if (jobFile === undefined || answerFile === undefined) {
  throw new Error('usage: bench-in-process.js <job.json> <answer.json>');
}
try {
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as InProcessJob;
  writeFileSync(answerFile, JSON.stringify({ answer: await runInProcessJob(job) }));
} catch (err) {
  const code = err instanceof WasiLambdaError ? err.code : undefined;
  writeFileSync(answerFile, JSON.stringify({ error: { code, message: toError(err).message } }));
}
// The job's hosts, servers and SDK clients may hold the event loop open; the answer is written.
process.exit(0);
