import type { DomainError } from "@image-api/core";

export interface HttpError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

const STATUS: Record<DomainError["_tag"], [number, string]> = {
  Unauthenticated: [401, "unauthenticated"],
  Forbidden: [403, "forbidden"],
  NotFound: [404, "not_found"],
  Invalid: [422, "invalid_parameters"],
  Unsupported: [415, "unsupported_media_type"],
  TooLarge: [413, "payload_too_large"],
  Conflict: [409, "conflict"],
  Unavailable: [503, "service_unavailable"],
};

/** The one place that turns a domain failure into an HTTP status. */
export const toHttpError = (e: DomainError): HttpError => {
  const [status, code] = STATUS[e._tag];
  return {
    status,
    code,
    // An outage's cause may carry connection details; the caller only learns that it is temporary.
    message: e._tag === "Unavailable" ? "the service is temporarily unavailable, retry later" : e.message,
    ...(e._tag === "Invalid" ? { details: e.issues } : {}),
  };
};

export const httpError = (status: number, code: string, message: string): HttpError => ({ status, code, message });
