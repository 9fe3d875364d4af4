import { describe, expect, test } from "vitest";
import { exifDate, exifGps, parseExif } from "../src/sharp/index.js";

type Entry = { tag: number; type: number; values: number[] | string | Uint8Array };

/** Builds a TIFF/EXIF block by hand, in either byte order, with IFD0 pointing at an Exif and a GPS IFD. */
const tiff = (little: boolean, ifd0: Entry[], exif: Entry[] = [], gps: Entry[] = []): Uint8Array => {
  const buf = Buffer.alloc(4096);
  const u16 = (v: number, at: number) => (little ? buf.writeUInt16LE(v, at) : buf.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (little ? buf.writeUInt32LE(v, at) : buf.writeUInt32BE(v, at));
  const i32 = (v: number, at: number) => (little ? buf.writeInt32LE(v, at) : buf.writeInt32BE(v, at));
  buf.write(little ? "II" : "MM", 0, "latin1");
  u16(42, 2);
  u32(8, 4);
  let heap = 2048;
  const size: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 10: 8 };
  const writeIfd = (at: number, entries: Entry[]): number => {
    u16(entries.length, at);
    entries.forEach((e, i) => {
      const p = at + 2 + i * 12;
      const raw = typeof e.values === "string" ? Buffer.from(`${e.values}\0`, "latin1") : e.values instanceof Uint8Array ? Buffer.from(e.values) : null;
      const count = raw ? raw.length : e.type === 5 || e.type === 10 ? e.values.length / 2 : (e.values as number[]).length;
      u16(e.tag, p);
      u16(e.type, p + 2);
      u32(count, p + 4);
      const total = count * size[e.type]!;
      const dest = total <= 4 ? p + 8 : heap;
      if (total > 4) {
        u32(heap, p + 8);
        heap += total + (total % 2);
      }
      if (raw) raw.copy(buf, dest);
      else
        (e.values as number[]).forEach((v, j) => {
          if (e.type === 3) u16(v, dest + j * 2);
          else if (e.type === 10) i32(v, dest + j * 4);
          else if (e.type === 1 || e.type === 7) buf.writeUInt8(v, dest + j);
          else u32(v, dest + j * 4);
        });
    });
    u32(0, at + 2 + entries.length * 12);
    return at;
  };
  const ifd0Entries = [...ifd0];
  if (exif.length) ifd0Entries.push({ tag: 0x8769, type: 4, values: [600] });
  if (gps.length) ifd0Entries.push({ tag: 0x8825, type: 4, values: [1200] });
  writeIfd(8, ifd0Entries);
  if (exif.length) writeIfd(600, exif);
  if (gps.length) writeIfd(1200, gps);
  return new Uint8Array(Buffer.concat([Buffer.from("Exif\0\0", "latin1"), buf.subarray(0, heap)]));
};

describe("parseExif", () => {
  test.for([true, false])("reads every IFD in either byte order (little endian: %s)", (little) => {
    const exif = parseExif(
      tiff(
        little,
        [
          { tag: 0x010f, type: 2, values: "Acme" },
          { tag: 0x0112, type: 3, values: [6] },
          { tag: 0x011a, type: 5, values: [72, 1] },
        ],
        [
          { tag: 0x9003, type: 2, values: "2018:01:01 08:00:00" },
          { tag: 0x9204, type: 10, values: [-2, 3] },
          { tag: 0x9000, type: 7, values: new TextEncoder().encode("0230") },
          { tag: 0x9286, type: 7, values: new Uint8Array([...Buffer.from("ASCII\0\0\0hello\0", "latin1")]) },
          { tag: 0x927c, type: 7, values: new Uint8Array(200).fill(7) },
          { tag: 0xbeef, type: 3, values: [1, 2] },
        ],
        [
          { tag: 0x0000, type: 1, values: [2, 3, 0, 0] },
          { tag: 0x0001, type: 2, values: "S" },
          { tag: 0x0002, type: 5, values: [33, 1, 51, 1, 2442, 100] },
          { tag: 0x0003, type: 2, values: "W" },
          { tag: 0x0004, type: 5, values: [70, 1, 38, 1, 5375, 100] },
        ],
      ),
    );
    expect(exif).toEqual({
      Make: "Acme",
      Orientation: 6,
      XResolution: 72,
      DateTimeOriginal: "2018:01:01 08:00:00",
      ExposureBiasValue: -2 / 3,
      ExifVersion: "0230",
      UserComment: "hello",
      Tag0xBEEF: [1, 2],
      GPSVersionID: [2, 3, 0, 0],
      GPSLatitudeRef: "S",
      GPSLatitude: [33, 51, 24.42],
      GPSLongitudeRef: "W",
      GPSLongitude: [70, 38, 53.75],
    });
    const gps = exifGps(exif);
    expect(gps?.[0]).toBeCloseTo(-(33 + 51 / 60 + 24.42 / 3600), 9);
    expect(gps?.[1]).toBeCloseTo(-(70 + 38 / 60 + 53.75 / 3600), 9);
  });

  test("never throws on hostile input, and strips NULs that jsonb would refuse", () => {
    expect(parseExif(undefined)).toEqual({});
    expect(parseExif(new Uint8Array(0))).toEqual({});
    expect(parseExif(new TextEncoder().encode("Exif\0\0garbage garbage"))).toEqual({});
    const whole = tiff(true, [{ tag: 0x010f, type: 2, values: "Ac\0me" }], [{ tag: 0x9003, type: 2, values: "2018:01:01 08:00:00" }]);
    for (let cut = 0; cut < whole.length; cut += 7) expect(() => parseExif(whole.subarray(0, cut))).not.toThrow();
    expect(parseExif(whole).Make).toBe("Acme");
    // An IFD pointer aimed back at IFD0 must not loop.
    const loop = tiff(false, [{ tag: 0x8769, type: 4, values: [8] }]);
    expect(parseExif(loop)).toEqual({});
    // A rational over zero becomes null rather than Infinity.
    expect(parseExif(tiff(true, [{ tag: 0x011a, type: 5, values: [72, 0] }])).XResolution).toBeNull();
  });
});

describe("exifDate", () => {
  test("reads EXIF timestamps as UTC and rejects placeholders", () => {
    expect(exifDate("2018:01:01 08:00:00")?.toISOString()).toBe("2018-01-01T08:00:00.000Z");
    expect(exifDate("0000:00:00 00:00:00")).toBeNull();
    expect(exifDate("2018:02:30 08:00:00")).toBeNull();
    expect(exifDate("    :  :     :  :  ")).toBeNull();
    expect(exifDate(42)).toBeNull();
    expect(exifDate(undefined)).toBeNull();
  });
});

describe("exifGps", () => {
  test("needs both coordinates in range", () => {
    expect(exifGps({ GPSLatitude: [48, 51, 0] })).toBeNull();
    expect(exifGps({ GPSLatitude: [95, 0, 0], GPSLongitude: [2, 0, 0] })).toBeNull();
    expect(exifGps({ GPSLatitude: [48, 30, 0], GPSLatitudeRef: "N", GPSLongitude: [2, 15, 0], GPSLongitudeRef: "E" })).toEqual([48.5, 2.25]);
  });
});
