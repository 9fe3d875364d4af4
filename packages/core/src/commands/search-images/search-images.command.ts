import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { albumsWith, type AlbumScope } from "../../album/ability.policy.js";
import { isSearchToken, tenantOf, type Claims } from "../../auth/claims.codec.js";
import type { ImagePage, ImageRepository } from "../../ports/image-repository.port.js";
import { parseQuery } from "../../search/parse.js";
import { queryInvalid } from "../../search/query.js";
import { invalid, invalidField, type Invalid, type Unavailable } from "../../shared/errors.js";
import { pagingIssues } from "../list-album-images/list-album-images.command.js";

export interface SearchImagesInput {
  /** The query as sent; absent or empty means the search token's own query. */
  readonly q: string | undefined;
  /** `"2"` also matches substrings of filenames. */
  readonly version: string | undefined;
  /** 1-based. */
  readonly page: number;
  readonly perPage: number;
}

/**
 * Where a search looks: a search token's `q` claim (`"*"` is the whole tenant), or the albums a user
 * token may list. Never outside the token's tenant.
 */
export const searchScope = (caller: Claims): AlbumScope =>
  isSearchToken(caller)
    ? caller.q === "*"
      ? { kind: "tenant" }
      : { kind: "albums", albums: [caller.q] }
    : { kind: "albums", albums: albumsWith(caller, "image_list") };

const EMPTY: ImagePage = { items: [], total: 0 };

/** Images of the caller's scope that match the query, newest first. */
export const searchImages =
  (deps: { readonly images: ImageRepository }) =>
  (caller: Claims, input: SearchImagesInput): TE.TaskEither<Invalid | Unavailable, ImagePage> => {
    const issues = pagingIssues(input);
    if (issues.length > 0) return TE.left(invalid(issues));
    if (input.version !== undefined && input.version !== "1" && input.version !== "2") return TE.left(invalidField("version", "must be 1 or 2"));
    const text = input.q === undefined || input.q.trim() === "" ? (isSearchToken(caller) ? "*" : undefined) : input.q;
    if (text === undefined) return TE.left(invalidField("q", "required: a query, or * for everything the token may list"));
    const scope = searchScope(caller);
    return pipe(
      TE.fromEither(pipe(parseQuery(text), E.mapLeft((e) => queryInvalid(e)))),
      TE.chainW((query) =>
        scope.kind === "albums" && scope.albums.length === 0
          ? TE.right(EMPTY)
          : deps.images.search(tenantOf(caller), scope, query, { substringFilename: input.version === "2" }, {
              offset: (input.page - 1) * input.perPage,
              limit: input.perPage,
            }),
      ),
    );
  };

