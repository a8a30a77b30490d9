/**
 * The SQL condition of a newest-first list's next page (`order by <time> desc,
 * <id> desc`): rows before the cursor `$time` / `$id` (`before` / `beforeId`,
 * protocol `pageCursor`). Without an id it is `time < $time`, as before ids
 * were sent; with one, rows of that same time but a lower id come too, so items
 * of one millisecond split over two pages are not skipped. A null `$time` means
 * the first page.
 *
 * @example
 * pageBefore("c.created_at", "c.id", "$3", "$5") // in `where ... and ${...}`
 */
export function pageBefore(timeColumn: string, idColumn: string, timeParam: string, idParam: string): string {
  const time = `${timeParam}::timestamptz`;
  return `(${time} is null or ${timeColumn} < ${time} or (${idParam}::text is not null and ${timeColumn} = ${time} and ${idColumn}::text < ${idParam}::text))`;
}
