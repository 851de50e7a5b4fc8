/**
 * Reading what Powertools writes to stdout: EMF metric lines and structured log lines, parsed
 * as CloudWatch would parse them. Tests assert on these, not on calls to a mock.
 */
import { jest } from '@jest/globals';

/** One CloudWatch Embedded Metric Format object. */
export interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/**
 * Run `fn` with process.stdout and process.stderr captured (Powertools writes EMF and INFO logs
 * to stdout, WARN and ERROR logs to stderr; Lambda sends both to CloudWatch Logs); returns every
 * line written meanwhile, in order.
 */
export async function captureStdout<T>(fn: () => Promise<T>): Promise<{ lines: string[]; result?: T; error?: unknown }> {
  let text = '';
  const write = (chunk: unknown) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(write), jest.spyOn(process.stderr, 'write').mockImplementation(write)];
  try {
    const result = await fn();
    return { lines: text.split('\n').filter(Boolean), result };
  } catch (error) {
    return { lines: text.split('\n').filter(Boolean), error };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

const json = (line: string): Record<string, unknown> | undefined => {
  try {
    const v: unknown = JSON.parse(line);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** The EMF objects among the lines. */
export const emfOf = (lines: string[]): Emf[] => lines.map(json).filter((o): o is Emf => o !== undefined && '_aws' in o);

/** The structured log lines (Powertools logger) among the lines. */
export const logsOf = (lines: string[]): Record<string, unknown>[] =>
  lines.map(json).filter((o): o is Record<string, unknown> => o !== undefined && 'level' in o);

/** A metric as CloudWatch would see it: its value(s), unit, dimension sets and dimension values. */
export interface Point {
  value: unknown;
  unit: string;
  namespace: string;
  dimensionSets: string[][];
  dims: Record<string, unknown>;
}

/** Every occurrence of metric `name` across the EMF objects. */
export function points(emf: Emf[], name: string): Point[] {
  const out: Point[] = [];
  for (const o of emf) {
    for (const d of o._aws.CloudWatchMetrics) {
      const m = d.Metrics.find((x) => x.Name === name);
      if (!m) continue;
      const keys = [...new Set(d.Dimensions.flat())];
      out.push({ value: o[name], unit: m.Unit, namespace: d.Namespace, dimensionSets: d.Dimensions, dims: Object.fromEntries(keys.map((k) => [k, o[k]])) });
    }
  }
  return out;
}

/** All metric names in the EMF objects, sorted. */
export const metricNames = (emf: Emf[]): string[] =>
  [...new Set(emf.flatMap((o) => o._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name))))].sort();
