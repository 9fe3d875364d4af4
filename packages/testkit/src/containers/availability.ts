import { existsSync } from "node:fs";
import { request } from "node:http";
import { S3RVER_CREDENTIALS, type S3Connection } from "./s3-connection.js";

/** Names of the locally built images (see scripts/ci/build-images.sh). */
export const POSTGRES_IMAGE_ENV = "IMAGE_API_TEST_POSTGRES_IMAGE";
export const S3_IMAGE_ENV = "IMAGE_API_TEST_S3_IMAGE";
/** A Node.js base for the service's own Dockerfile (its BASE_IMAGE), standing in for node:22-bookworm-slim. */
export const NODE_IMAGE_ENV = "IMAGE_API_TEST_NODE_IMAGE";

type Env = Readonly<Record<string, string | undefined>>;

/** The locally built image named by `imageEnv`, for starting a container directly. */
export const requireImage = (imageEnv: string, env: Env = process.env): string => {
  const image = env[imageEnv];
  if (!image) throw new Error(`${imageEnv} is not set; build it with scripts/ci/build-images.sh`);
  return image;
};

/**
 * Where a test run gets a service from: a server someone pointed us at, a container
 * we start from a locally built image, or nowhere (the dependent tests skip).
 */
export type Plan<A> =
  | { readonly kind: "external"; readonly value: A }
  | { readonly kind: "container"; readonly image: string }
  | { readonly kind: "skip"; readonly reason: string };

export const isCi = (env: Env = process.env): boolean => env["CI"] === "true" || env["CI"] === "1";

/** Answers whether the Docker daemon responds to a ping, within a second. */
export const dockerAvailable = (env: Env = process.env): Promise<boolean> => {
  const host = env["DOCKER_HOST"] ?? "unix:///var/run/docker.sock";
  const target = host.startsWith("unix://")
    ? { socketPath: host.slice("unix://".length) }
    : host.startsWith("tcp://")
      ? (() => {
          const url = new URL(host.replace(/^tcp:/, "http:"));
          return { host: url.hostname, port: Number(url.port || 2375) };
        })()
      : undefined;
  if (!target || ("socketPath" in target && !existsSync(target.socketPath))) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ ...target, path: "/_ping", timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
};

/** The tests create and drop schemas, so only a database named for tests is accepted. */
export const assertTestDatabase = (url: string): string => {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
  if (!name.includes("test"))
    throw new Error(`refusing to run tests against database "${name}": its name must contain "test"`);
  return url;
};

// Under CI a skipped integration test is a silent hole in coverage, so it fails instead.
const skipOrFail = <A>(service: string, reason: string, env: Env): Plan<A> => {
  if (isCi(env)) throw new Error(`CI=true but ${service} tests cannot run: ${reason}`);
  return { kind: "skip", reason };
};

const containerPlan = async <A>(service: string, imageEnv: string, explicitEnv: string, env: Env): Promise<Plan<A>> => {
  const image = env[imageEnv];
  const hint = `set ${explicitEnv}, or build the images with \`eval "$(bash scripts/ci/build-images.sh)"\``;
  if (!image) return skipOrFail(service, `${imageEnv} is not set (${hint})`, env);
  if (!(await dockerAvailable(env))) return skipOrFail(service, `Docker is not reachable (${hint})`, env);
  return { kind: "container", image };
};

/** Building and running the service's image needs Docker and the Node.js base image to build it on. */
export const planNodeBase = async (env: Env = process.env): Promise<Plan<never>> => {
  const image = env[NODE_IMAGE_ENV];
  const hint = `build it with \`eval "$(bash scripts/ci/build-images.sh)"\`, or name any Node.js >= 20.9 image with npm`;
  if (!image) return skipOrFail("container image", `${NODE_IMAGE_ENV} is not set (${hint})`, env);
  if (!(await dockerAvailable(env))) return skipOrFail("container image", "Docker is not reachable", env);
  return { kind: "container", image };
};

export const planPostgres = async (env: Env = process.env): Promise<Plan<string>> => {
  const url = env["IMAGE_API_TEST_DATABASE_URL"];
  if (url) return { kind: "external", value: assertTestDatabase(url) };
  return containerPlan("Postgres", POSTGRES_IMAGE_ENV, "IMAGE_API_TEST_DATABASE_URL", env);
};

export const planS3 = async (env: Env = process.env): Promise<Plan<S3Connection>> => {
  const endpoint = env["IMAGE_API_TEST_S3_ENDPOINT"];
  if (endpoint)
    return {
      kind: "external",
      value: {
        endpoint,
        bucket: env["IMAGE_API_TEST_S3_BUCKET"] ?? "test-bucket",
        region: env["IMAGE_API_TEST_S3_REGION"] ?? "us-east-1",
        accessKeyId: env["IMAGE_API_TEST_S3_ACCESS_KEY_ID"] ?? S3RVER_CREDENTIALS.accessKeyId,
        secretAccessKey: env["IMAGE_API_TEST_S3_SECRET_ACCESS_KEY"] ?? S3RVER_CREDENTIALS.secretAccessKey,
      },
    };
  return containerPlan("S3", S3_IMAGE_ENV, "IMAGE_API_TEST_S3_ENDPOINT", env);
};
