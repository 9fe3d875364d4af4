import type { Response, Router } from "express";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { DEFAULT_PER_PAGE, invalidField, searchImages } from "@image-api/core";
import type { AppDeps } from "../deps.js";
import { presentImage } from "../present/image.presenter.js";
import { sendJson } from "../send.js";
import { linkHeader, pagingParam } from "./albums.routes.js";
import { handle, under } from "./run.js";

/** One plain string from the query, or undefined; a repeated or bracketed parameter is an error. */
const textParam = (query: Record<string, unknown>, name: string): string | undefined | null => {
  const v = query[name];
  if (Object.keys(query).some((k) => k.startsWith(`${name}[`))) return null;
  return v === undefined || typeof v === "string" ? v : null;
};

/** `GET /api/v1/search?q=…[&version=2][&page=&per_page=]`, registered on `router` at `at`: like the album listing, across the albums the token covers. */
export const searchRouter = (deps: AppDeps, router: Router, at: string): Router => {
  router.get(
    under(at, "/"),
    handle(
      (caller, req) => {
        const query = req.query as Record<string, unknown>;
        const q = textParam(query, "q");
        const version = textParam(query, "version");
        if (q === null) return TE.left(invalidField("q", "must be sent once, as a string"));
        if (version === null) return TE.left(invalidField("version", "must be sent once, as a string"));
        const page = pagingParam(req.query, "page", 1);
        const perPage = pagingParam(req.query, "per_page", DEFAULT_PER_PAGE);
        return pipe(
          searchImages(deps)(caller, { q, version, page, perPage }),
          TE.map((result) => ({ ...result, page, perPage, req, keep: { ...(q === undefined ? {} : { q }), ...(version === undefined ? {} : { version }) } })),
        );
      },
      async (res: Response, { items, total, page, perPage, req, keep }) => {
        const now = deps.clock.now();
        const body = await Promise.all(items.map((image) => presentImage(image, deps.signer, now)));
        res.setHeader("X-Total-Count", String(total));
        res.setHeader("Link", linkHeader(req, page, perPage, total, keep));
        sendJson(res, 200, body);
      },
    ),
  );
  return router;
};
