import * as TE from "fp-ts/lib/TaskEither.js";
import { pipe } from "fp-ts/lib/function.js";
import { can, scopeOf } from "../../album/ability.policy.js";
import { tenantOf, type Claims } from "../../auth/claims.codec.js";
import type { Clock } from "../../ports/clock.port.js";
import type { Image } from "../../image/image.js";
import type { Completion } from "../../ports/idempotency.port.js";
import type { ImageRepository, Move } from "../../ports/image-repository.port.js";
import { forbidden, invalid, type FieldIssue, type Forbidden, type Invalid, type Unavailable } from "../../shared/errors.js";
import { AlbumId, ImageId } from "../../shared/ids.js";
import { MAX_BATCH, reverseOfRequest } from "../delete-images/delete-images.command.js";

/** `image id → destination album`, as sent (`move_operations[<id>]=<album>`). */
export type MoveOperations = Readonly<Record<string, string>>;

/**
 * Moves images to other albums of the tenant: all of them or none. Each needs `image_delete` on the
 * album it leaves and `image_upload` on the one it joins. The image keeps its id, bytes and URLs.
 */
export const moveImages =
  (deps: { readonly images: ImageRepository; readonly clock: Clock }) =>
  (caller: Claims, operations: MoveOperations, complete?: (moved: string[]) => Completion): TE.TaskEither<Invalid | Forbidden | Unavailable, string[]> => {
    const entries = Object.entries(operations);
    const issues: FieldIssue[] = [];
    if (entries.length === 0) issues.push({ field: "move_operations", message: "send at least one move_operations[<image_id>]=<album_id>" });
    if (entries.length > MAX_BATCH) issues.push({ field: "move_operations", message: `at most ${MAX_BATCH} moves per request` });
    for (const [id, to] of entries) if (!AlbumId.is(to)) issues.push({ field: `move_operations[${id}]`, message: "must be an album id" });
    if (issues.length > 0) return TE.left(invalid(issues));
    // Destinations are known before any row is read: refuse a forbidden one without touching the database.
    const denied = entries.find(([, to]) => !can(caller, to, "image_upload"));
    if (denied) return TE.left(forbidden(`token lacks image_upload on album ${denied[1]}`));
    const moves: Move[] = entries.filter(([id]) => ImageId.is(id)).map(([id, to]) => ({ id: id as ImageId, to: to as AlbumId }));
    const answer = (moved: readonly Image[]) =>
      reverseOfRequest(
        entries.map(([id]) => id),
        new Set(moved.map((i) => i.id)),
      );
    return pipe(
      deps.images.move(tenantOf(caller), moves, scopeOf(caller, "image_delete"), deps.clock.now(), complete && ((moved) => complete(answer(moved)))),
      TE.map(answer),
    );
  };
