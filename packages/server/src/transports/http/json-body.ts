import type { FastifyInstance } from "fastify";
import secureJson from "secure-json-parse";
import { AppError } from "../../core/errors.js";

/** fastify's own messages for an empty and a malformed body, kept so every route answers a bad body alike. */
const EMPTY_BODY = "Body cannot be empty when content-type is set to 'application/json'";
const INVALID_BODY = "Body is not valid JSON but content-type is set to 'application/json'";
const POISONED_BODY = "Body has a key named __proto__, or a constructor key holding prototype: such keys are refused (prototype poisoning)";

/**
 * Parses a JSON request body as fastify's default parser does (`__proto__`
 * keys, and `constructor` keys holding `prototype`, are refused rather than
 * parsed), with an error that says which rule the body broke: the default
 * parser called such a body "not valid JSON", which it is.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new AppError("bad_request", EMPTY_BODY);
  try {
    return secureJson.parse(text, undefined, { protoAction: "error", constructorAction: "error" });
  } catch (err) {
    // secure-json-parse parses first and only then looks for those keys.
    throw new AppError("bad_request", /^Object contains forbidden/.test((err as Error).message) ? POISONED_BODY : INVALID_BODY);
  }
}

/** Makes {@link parseJsonBody} the app's parser of `application/json` bodies (the body limit still applies). */
export function useJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
