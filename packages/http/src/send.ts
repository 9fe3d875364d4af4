import type { Response } from "express";
import type { DomainError } from "@image-api/core";
import { toHttpError, type HttpError } from "./errors/error.mapper.js";
import { toJson } from "./present/json.js";

export const sendJson = (res: Response, status: number, body: unknown): void => {
  res.status(status);
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  // Appended: CORS with an origin list has already said the answer varies by Origin.
  res.vary("Accept-Encoding");
  res.send(toJson(body));
};

export const sendError = (res: Response, e: HttpError): void => {
  // A failed request hands back no fresh token.
  res.removeHeader("X-token");
  res.setHeader("X-message", e.message.replace(/[^\x20-\x7e]/g, "?").slice(0, 200));
  if (e.status === 401) res.setHeader("WWW-Authenticate", 'Token realm="Image API"');
  sendJson(res, e.status, { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } });
};

export const sendDomainError = (res: Response, e: DomainError): void => sendError(res, toHttpError(e));
