/** Load and latency measurement: autocannon for concurrent load, a keep-alive client for sequential requests. */
import { Agent, request } from "node:http";
import autocannon from "autocannon";
import { sampleResident } from "./processes.js";

export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

/** The median; of an even count, the mean of the two middle values. */
export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface LoadResult {
  /** Successful (2xx) responses per second. */
  readonly rps: number;
  readonly requests: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly seconds: number;
  /** Largest resident set of the server process seen during the run. */
  readonly rssMaxBytes: number | null;
}

export interface LoadOptions {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers: Record<string, string>;
  readonly connections: number;
  readonly seconds: number;
  /** The server's pid, whose memory is sampled during the run. */
  readonly pid?: number;
  /** Called with every response's status and body (autocannon then reads the bodies). */
  readonly onResponse?: (status: number, body: string) => void;
}

export const runLoad = async (o: LoadOptions): Promise<LoadResult> => {
  const rss = o.pid === undefined ? null : sampleResident(o.pid);
  const { pathname, search } = new URL(o.url);
  const onResponse = o.onResponse;
  const requests = onResponse ? [{ method: o.method, path: `${pathname}${search}`, headers: o.headers, onResponse: (status: number, body: string) => onResponse(status, body) }] : undefined;
  const result = await autocannon({ url: o.url, method: o.method, headers: o.headers, connections: o.connections, duration: o.seconds, pipelining: 1, ...(requests ? { requests } : {}) });
  const memory = rss ? await rss() : { max: null };
  const ok = result["2xx"];
  const seconds = result.duration || o.seconds;
  return {
    rps: ok / seconds,
    requests: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    seconds,
    rssMaxBytes: memory.max,
  };
};

export interface Reply {
  readonly status: number;
  /** As sent: names in their casing and order. */
  readonly rawHeaders: readonly (readonly [string, string])[];
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One request on a kept-alive connection (the same one for sequential requests). */
export const send = (url: string, method: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, ...(body ? { "Content-Length": String(body.byteLength) } : {}) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const raw = res.rawHeaders;
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
        resolve({ status: res.statusCode ?? 0, rawHeaders: pairs, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.on("error", reject);
    req.end(body);
  });

export interface SequentialSample {
  /** Round trip measured by the client. */
  readonly ms: number;
  /** The server's own X-Runtime, in milliseconds. */
  readonly runtimeMs: number;
  readonly status: number;
}

/** One request at a time; the first `warmup` are not kept. */
export const sequential = async (count: number, warmup: number, once: () => Promise<Reply>): Promise<SequentialSample[]> => {
  const samples: SequentialSample[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const t0 = performance.now();
    const reply = await once();
    const ms = performance.now() - t0;
    if (i >= warmup) samples.push({ ms, runtimeMs: Number(reply.headers["x-runtime"]) * 1000, status: reply.status });
  }
  return samples;
};

export const summarize = (samples: readonly SequentialSample[]) => ({
  count: samples.length,
  failures: samples.filter((s) => s.status < 200 || s.status >= 300).length,
  p50Ms: percentile(samples.map((s) => s.ms), 50),
  p99Ms: percentile(samples.map((s) => s.ms), 99),
  runtimeP50Ms: percentile(samples.map((s) => s.runtimeMs), 50),
  runtimeP99Ms: percentile(samples.map((s) => s.runtimeMs), 99),
});
export type SequentialSummary = ReturnType<typeof summarize>;
