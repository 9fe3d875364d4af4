import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { can } from "../../album/ability.policy.js";
import { tenantOf, type Claims } from "../../auth/claims.codec.js";
import type { Image } from "../../image/image.js";
import type { ImagePage, ImageRepository } from "../../ports/image-repository.port.js";
import { invalid, notFound, type FieldIssue, type Invalid, type NotFound, type Unavailable } from "../../shared/errors.js";
import { AlbumId } from "../../shared/ids.js";
import { decodeListingCursor, encodeListingCursor, positionOf, type ListingCursor } from "./listing-cursor.js";

export * from "./listing-cursor.js";

export const MAX_PER_PAGE = 500;
export const DEFAULT_PER_PAGE = 100;
export const MAX_PAGE = 1_000_000;

export interface ListAlbumImagesInput {
  readonly albumId: string;
  /** 1-based. With a cursor it only numbers the page (for the links): the cursor says where it starts. */
  readonly page: number;
  readonly perPage: number;
  /**
   * From a `next` or `prev` link of an earlier page: the page starts beside that image, so it costs
   * what the first page costs, and images added or removed since on the far side do not shift it.
   */
  readonly cursor?: string;
}

/** A page, with the cursors of the pages around it that are best reached by one. */
export interface AlbumImagesPage extends ImagePage {
  /** The page after this one (its images are older than this page's last); absent on the last page. */
  readonly next?: string;
  /** The page before this one; only on a page reached by cursor, and absent when nothing is newer. */
  readonly prev?: string;
}

/** `page` and `per_page`, as listings and searches take them. */
export const pagingIssues = ({ page, perPage }: { readonly page: number; readonly perPage: number }): FieldIssue[] => [
  ...(Number.isInteger(page) && page >= 1 && page <= MAX_PAGE ? [] : [{ field: "page", message: "must be an integer >= 1" }]),
  ...(Number.isInteger(perPage) && perPage >= 1 && perPage <= MAX_PER_PAGE
    ? []
    : [{ field: "per_page", message: `must be an integer from 1 to ${MAX_PER_PAGE}` }]),
];

const EMPTY: ImagePage = { items: [], total: 0 };

/** The `next` cursor just past the last image, and the `prev` one just before the first, where they are wanted. */
const neighbours = (next: Image | undefined, prev: Image | undefined): Pick<AlbumImagesPage, "next" | "prev"> => ({
  ...(next ? { next: encodeListingCursor({ direction: "after", position: positionOf(next) }) } : {}),
  ...(prev ? { prev: encodeListingCursor({ direction: "before", position: positionOf(prev) }) } : {}),
});

/**
 * The page beside a cursor's position, by keyset rather than offset. One image more than the page is
 * read on the side away from the cursor, to tell whether another page follows there; on the side it
 * came from, the image it names (or the spot where it was) is there.
 */
const keysetPage = (page: ImagePage, { direction }: ListingCursor, perPage: number): AlbumImagesPage => {
  const more = page.items.length > perPage;
  const items = direction === "after" ? page.items.slice(0, perPage) : page.items.slice(more ? 1 : 0);
  return {
    items,
    total: page.total,
    ...neighbours(direction === "before" || more ? items.at(-1) : undefined, direction === "after" || more ? items[0] : undefined),
  };
};

/**
 * An album's images, newest first. Like the family's API, a caller without `image_list` on the album
 * sees an empty album rather than an error: listing reveals nothing about albums one cannot read.
 */
export const listAlbumImages =
  (deps: { readonly images: ImageRepository }) =>
  (caller: Claims, input: ListAlbumImagesInput): TE.TaskEither<NotFound | Invalid | Unavailable, AlbumImagesPage> => {
    if (!AlbumId.is(input.albumId)) return TE.left(notFound(`album ${input.albumId} not found`));
    const cursor = input.cursor === undefined ? E.right(undefined) : decodeListingCursor(input.cursor);
    const issues = [...pagingIssues(input), ...(E.isLeft(cursor) ? cursor.left.issues : [])];
    if (issues.length > 0 || E.isLeft(cursor)) return TE.left(invalid(issues));
    if (!can(caller, input.albumId, "image_list")) return TE.right(EMPTY);
    const { page, perPage } = input;
    const from = cursor.right;
    // The query stays scoped by tenant and album: a cursor only says where in them the page starts.
    if (from)
      return pipe(
        deps.images.listByAlbum(tenantOf(caller), input.albumId, { offset: 0, limit: perPage + 1, [from.direction]: from.position }),
        TE.map((found) => keysetPage(found, from, perPage)),
      );
    return pipe(
      deps.images.listByAlbum(tenantOf(caller), input.albumId, { offset: (page - 1) * perPage, limit: perPage }),
      TE.map((found) => ({ ...found, ...neighbours(page < Math.ceil(found.total / perPage) ? found.items.at(-1) : undefined, undefined) })),
    );
  };
