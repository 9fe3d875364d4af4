import { describe, expect, it } from "vitest";
import { collect } from "../src/shared/bytes.js";

async function* chunks(...parts: number[][]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield new Uint8Array(p);
}

describe("collect", () => {
  it("joins the chunks in order", async () => {
    expect([...(await collect(chunks([1, 2], [], [3], [4, 5, 6])))]).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await collect(chunks())).byteLength).toBe(0);
  });

  it("keeps what it read when the producer reuses its buffer", async () => {
    async function* reusing(): AsyncIterable<Uint8Array> {
      const buffer = new Uint8Array(2);
      for (const v of [1, 2, 3]) {
        buffer.fill(v);
        yield buffer;
      }
    }
    expect([...(await collect(reusing()))]).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it("throws past the limit, and accepts a stream of exactly the limit", async () => {
    await expect(collect(chunks([1, 2], [3, 4]), 3)).rejects.toThrow("blob larger than 3 bytes");
    expect([...(await collect(chunks([1, 2], [3]), 3))]).toEqual([1, 2, 3]);
  });

  it("stops reading once past the limit", async () => {
    let pulled = 0;
    async function* endless(): AsyncIterable<Uint8Array> {
      for (;;) {
        pulled++;
        yield new Uint8Array(10);
      }
    }
    await expect(collect(endless(), 25)).rejects.toThrow();
    expect(pulled).toBe(3);
  });
});
