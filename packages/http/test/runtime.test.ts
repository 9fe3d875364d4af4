import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../../", import.meta.url).pathname;
const major = Number(process.versions.node.split(".")[0]);

describe("the Node.js this suite runs on", () => {
  // CI runs the suite once per supported major and says which one it means, so a PATH mix-up cannot pass silently.
  it.runIf(process.env["IMAGE_API_EXPECT_NODE_MAJOR"])("is the major CI asked for, in the vitest workers and in the processes tests spawn", () => {
    const expected = Number(process.env["IMAGE_API_EXPECT_NODE_MAJOR"]);
    expect(major).toBe(expected);
    const child = spawnSync("node", ["-p", "process.versions.node"], { encoding: "utf8" });
    expect(Number(child.stdout.split(".")[0])).toBe(expected);
  });

  it("is one every package's engines field admits", async () => {
    for (const pkg of ["package.json", ...["core", "adapters", "http", "testkit"].map((p) => `packages/${p}/package.json`)]) {
      const { engines } = JSON.parse(await readFile(join(ROOT, pkg), "utf8")) as { engines?: { node?: string } };
      expect(engines?.node, pkg).toBe("^20.9.0 || ^22.0.0 || ^24.0.0");
    }
    expect([20, 22, 24]).toContain(major);
  });
});
