import { z } from "zod";

/**
 * The cursor of a newest-first list (conversations, notifications, calls):
 * `limit`, `before` (the time of the previous page's last item) and `beforeId`
 * (its id). The lists are ordered by time, then id, so with `beforeId` items of
 * the same millisecond as that last one are split between pages, not skipped.
 */
export function pageCursor<Id extends z.ZodType<string>>(idSchema: Id) {
  return {
    limit: z.number().int().min(1).max(100).optional(),
    before: z.iso.datetime({ offset: true }).optional(),
    beforeId: idSchema.optional(),
  };
}

/** `beforeId` only with `before`: for `.refine(...beforeIdNeedsBefore)`. */
export const beforeIdNeedsBefore: [(q: { before?: string | undefined; beforeId?: string | undefined }) => boolean, { message: string; path: string[] }] = [
  (q) => q.beforeId === undefined || q.before !== undefined,
  { message: "beforeId goes with before", path: ["beforeId"] },
];
