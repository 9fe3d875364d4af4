import "./loopback.js";
import type { TestProject } from "vitest/node";
import { planPostgres, planS3, type Plan } from "./availability.js";
import { startPostgres } from "./postgres.container.js";
import { startS3 } from "./s3.container.js";
import type { S3Connection } from "./s3-connection.js";
import "./provided-context.js";

interface Acquired<A> {
  readonly value: A | null;
  readonly stop: () => Promise<void>;
}

const none = async (): Promise<void> => {};

const acquire = async <A>(
  service: string,
  plan: Plan<A>,
  start: (image: string) => Promise<Acquired<A>>,
): Promise<Acquired<A>> => {
  switch (plan.kind) {
    case "external":
      return { value: plan.value, stop: none };
    case "skip":
      console.warn(`\n[testkit] ${service} tests will be skipped: ${plan.reason}\n`);
      return { value: null, stop: none };
    case "container":
      return start(plan.image);
  }
};

/** One Postgres and one S3 server per test run, shared by every test file through `inject`. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Both plans are decided before anything starts, so a CI misconfiguration fails fast.
  const [pgPlan, s3Plan] = await Promise.all([planPostgres(), planS3()]);
  const results = await Promise.allSettled([
    acquire("Postgres", pgPlan, async (image) => {
      const { url, stop } = await startPostgres(image);
      return { value: url, stop };
    }),
    acquire<S3Connection>("S3", s3Plan, async (image) => {
      // Only plain data crosses into the test workers.
      const { stop, ...connection } = await startS3(image);
      return { value: connection, stop };
    }),
  ]);
  const teardown = async (): Promise<void> => {
    await Promise.all(results.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
  };
  const [pg, s3] = results;
  if (pg?.status !== "fulfilled" || s3?.status !== "fulfilled") {
    await teardown();
    throw results.find((r): r is PromiseRejectedResult => r.status === "rejected")?.reason;
  }
  project.provide("databaseUrl", pg.value.value);
  project.provide("s3", s3.value.value);
  return teardown;
}
