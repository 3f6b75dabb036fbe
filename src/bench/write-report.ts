import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchReport, markdown, svgChart } from './report.js';

/** Writes `report.json`, `report.md` and `chart.svg` into a new directory; returns it. */
export function writeReport(report: BenchReport, root: string): string {
  const dir = join(root, report.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'report.md'), markdown(report));
  writeFileSync(join(dir, 'chart.svg'), svgChart(report));
  return dir;
}
