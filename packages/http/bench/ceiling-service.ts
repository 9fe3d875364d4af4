/**
 * The framework's ceiling: an Express 5 app, configured as the service's (`x-powered-by` off, no
 * ETag), whose duplicate route does no work and answers with a recorded real duplicate response,
 * its headers and body byte for byte. BENCH_REPLAY names the recording (JSON: status, headers as
 * [name, value] pairs, body in base64); PORT and HOST say where to listen.
 */
import { readFileSync } from "node:fs";
import express from "express";

interface Recording {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

const recording = JSON.parse(readFileSync(process.env["BENCH_REPLAY"] ?? "", "utf8")) as Recording;
const body = Buffer.from(recording.body, "base64");
// Node writes these itself for every response.
const PER_CONNECTION = new Set(["date", "connection", "keep-alive", "transfer-encoding", "content-length"]);
const headers = new Map<string, string[]>();
for (const [name, value] of recording.headers) if (!PER_CONNECTION.has(name.toLowerCase())) headers.set(name, [...(headers.get(name) ?? []), value]);

const app = express();
app.disable("x-powered-by");
app.set("etag", false);
app.get("/readyz", (_req, res) => {
  res.status(200).json({ status: "ready" });
});
app.post("/api/v1/images/:id/duplicate", (_req, res) => {
  for (const [name, values] of headers) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.status(recording.status).send(body);
});

const server = app.listen(Number(process.env["PORT"] ?? 0), process.env["HOST"] ?? "127.0.0.1");
const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
