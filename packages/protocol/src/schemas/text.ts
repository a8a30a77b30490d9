import { z } from "zod";

/**
 * What JSON carries but UTF-8 cannot hold: U+0000 (Postgres refuses it in
 * text and jsonb) and an unpaired UTF-16 surrogate (stored as U+FFFD, so not
 * "exactly as sent"). Strings the server stores are refused with these as
 * `bad_request` rather than failing in the database as `internal`.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_TEXT_MESSAGE = "must not contain U+0000 or an unpaired surrogate";

/** True when `text` can be stored as sent (see {@link UNSTORABLE}). */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * True when every string and key inside a JSON value is {@link isStorableText}.
 * A loop, not recursion: data nested thousands deep must reach the checks that
 * refuse it as such (`bad_request`), not overflow the stack here.
 */
export function isStorableJson(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "string") {
      if (!isStorableText(item)) return false;
    } else if (Array.isArray(item)) {
      // One by one: spreading a long array into push() can overflow the stack too.
      for (const inner of item) stack.push(inner);
    } else if (item !== null && typeof item === "object") {
      for (const [key, inner] of Object.entries(item)) {
        if (!isStorableText(key)) return false;
        stack.push(inner);
      }
    }
  }
  return true;
}

/** A string the server stores: any text but {@link UNSTORABLE}. */
export const storedText = () => z.string().refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);

/**
 * Characters as a reader counts them: code points, so an emoji (two UTF-16
 * units) is one, as PROTOCOL.md's "8,000 characters" means.
 */
export function characterCount(text: string): number {
  let pairs = 0;
  for (let i = 0; i < text.length - 1; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return text.length - pairs;
}
