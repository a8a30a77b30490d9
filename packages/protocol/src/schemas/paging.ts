import { z } from "zod";
import { serverReferenceSchema } from "../identifiers.js";

/**
 * The cursor of a newest-first list (conversations, notifications, calls):
 * `limit`, `before` (the time of the previous page's last item) and `beforeId`
 * (its id). The lists are ordered by time, then id, so with `beforeId` items of
 * the same millisecond as that last one are split between pages, not skipped.
 *
 * `beforeId` is a bound, not a lookup: any UUID is one (the item may have been
 * deleted since), and anything else is `bad_request`, as a reference inside a
 * payload is (see {@link serverReferenceSchema}).
 */
export function pageCursor(kind: string) {
  return {
    limit: z.number().int().min(1).max(100).optional(),
    before: z.iso.datetime({ offset: true }).optional(),
    beforeId: serverReferenceSchema(`must be the id of the previous page's last ${kind}`).optional(),
  };
}

/** `beforeId` only with `before`: for `.refine(...beforeIdNeedsBefore)`. */
export const beforeIdNeedsBefore: [(q: { before?: string | undefined; beforeId?: string | undefined }) => boolean, { message: string; path: string[] }] = [
  (q) => q.beforeId === undefined || q.before !== undefined,
  { message: "beforeId goes with before", path: ["beforeId"] },
];
