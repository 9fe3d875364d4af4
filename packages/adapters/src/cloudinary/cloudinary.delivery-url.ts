import { deliverySignature, safeEqual, type SignatureAlgorithm } from "./cloudinary.signature.js";

export type ResourceType = "image" | "raw";

/** One delivery URL's parts, as Cloudinary lays them out after the host. */
export interface DeliveryPath {
  readonly cloudName: string;
  readonly resourceType: ResourceType;
  readonly type: string;
  /** Slash-separated components; "" for the asset as stored. */
  readonly transformation: string;
  readonly version: number | null;
  readonly publicId: string;
  /** Extension; null delivers the stored format (and raw public ids carry their own extension). */
  readonly format: string | null;
}

/** What the URL signature covers: the transformation and `public_id.format`, not the version. */
const signedPart = (p: Pick<DeliveryPath, "transformation" | "publicId" | "format">): string =>
  [p.transformation, p.format === null ? p.publicId : `${p.publicId}.${p.format}`].filter((s) => s !== "").join("/");

/** `/<cloud>/<resource>/<type>/s--SIG--/<transformation>/v<version>/<public_id>.<format>`, empty parts left out. */
export const signedDeliveryPath = (p: DeliveryPath, apiSecret: string, algorithm: SignatureAlgorithm = "sha1"): string =>
  "/" +
  [
    p.cloudName,
    p.resourceType,
    p.type,
    deliverySignature(signedPart(p), apiSecret, algorithm),
    p.transformation,
    p.version === null ? "" : `v${p.version}`,
    p.format === null ? p.publicId : `${p.publicId}.${p.format}`,
  ]
    .filter((s) => s !== "")
    .join("/");

const SIGNATURE = /^s--[A-Za-z0-9_-]{8}--$/;
const VERSION = /^v(\d{1,15})$/;
const FILE = /^([^./]+)\.([A-Za-z0-9]+)$/;

/**
 * Splits a signed delivery path and checks its signature; null when it is not one or the signature
 * does not match. Public ids are single path segments here (the blob keys never contain `/`).
 */
export const verifyDeliveryPath = (path: string, apiSecret: string, algorithm: SignatureAlgorithm = "sha1"): DeliveryPath | null => {
  const [empty, cloudName, resourceType, type, signature, ...rest] = path.split("/");
  const file = rest.pop();
  if (empty !== "" || !cloudName || !type || !signature || !file || !SIGNATURE.test(signature)) return null;
  if (resourceType !== "image" && resourceType !== "raw") return null;
  const v = rest.length > 0 ? VERSION.exec(rest[rest.length - 1]!) : null;
  if (v) rest.pop();
  const named = resourceType === "image" ? FILE.exec(file) : null;
  const parsed: DeliveryPath = {
    cloudName,
    resourceType,
    type,
    transformation: rest.join("/"),
    version: v ? Number(v[1]) : null,
    publicId: named ? named[1]! : file,
    format: named ? named[2]! : null,
  };
  if (rest.some((s) => s === "")) return null;
  return safeEqual(deliverySignature(signedPart(parsed), apiSecret, algorithm), signature) ? parsed : null;
};
