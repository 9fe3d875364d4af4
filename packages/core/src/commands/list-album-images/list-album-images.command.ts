import * as TE from "fp-ts/lib/TaskEither.js";
import { can } from "../../album/ability.policy.js";
import { tenantOf, type Claims } from "../../auth/claims.codec.js";
import type { ImagePage, ImageRepository } from "../../ports/image-repository.port.js";
import { invalid, notFound, type FieldIssue, type Invalid, type NotFound, type Unavailable } from "../../shared/errors.js";
import { AlbumId } from "../../shared/ids.js";

export const MAX_PER_PAGE = 500;
export const DEFAULT_PER_PAGE = 100;

export interface ListAlbumImagesInput {
  readonly albumId: string;
  /** 1-based. */
  readonly page: number;
  readonly perPage: number;
}

/** `page` and `per_page`, as listings and searches take them. */
export const pagingIssues = ({ page, perPage }: { readonly page: number; readonly perPage: number }): FieldIssue[] => [
  ...(Number.isInteger(page) && page >= 1 && page <= 1_000_000 ? [] : [{ field: "page", message: "must be an integer >= 1" }]),
  ...(Number.isInteger(perPage) && perPage >= 1 && perPage <= MAX_PER_PAGE
    ? []
    : [{ field: "per_page", message: `must be an integer from 1 to ${MAX_PER_PAGE}` }]),
];

const EMPTY: ImagePage = { items: [], total: 0 };

/**
 * An album's images, newest first. Like the family's API, a caller without `image_list` on the album
 * sees an empty album rather than an error: listing reveals nothing about albums one cannot read.
 */
export const listAlbumImages =
  (deps: { readonly images: ImageRepository }) =>
  (caller: Claims, input: ListAlbumImagesInput): TE.TaskEither<NotFound | Invalid | Unavailable, ImagePage> => {
    if (!AlbumId.is(input.albumId)) return TE.left(notFound(`album ${input.albumId} not found`));
    const issues = pagingIssues(input);
    if (issues.length > 0) return TE.left(invalid(issues));
    if (!can(caller, input.albumId, "image_list")) return TE.right(EMPTY);
    return deps.images.listByAlbum(tenantOf(caller), input.albumId, { offset: (input.page - 1) * input.perPage, limit: input.perPage });
  };
