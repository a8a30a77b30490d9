import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  CompositeScreener,
  CrisisRulesError,
  CrisisScreener,
  parseEvalSet,
  runEvaluation,
  summarize,
  verifyWebhook,
  webhookScreener,
  type ScreenInput,
  type ScreenResult,
} from "@switchboard/server";

const screener = new CrisisScreener();
const builtinRules = JSON.parse(readFileSync(new URL("../src/core/moderation/rules/crisis-rules.v1.json", import.meta.url), "utf8"));

const input = (text: string, extra: Partial<ScreenInput> = {}): ScreenInput => ({ tenantId: "acme", userId: "u1", kind: "message", text, ...extra });
const screen = (text: string, extra: Partial<ScreenInput> = {}) => screener.screen(input(text, extra));
/** `severity category`, or `-` when not flagged: compact for tables of phrases. */
const verdict = (r: ScreenResult) => (r.flagged ? `${r.severity} ${r.category ?? "-"}` : "-");
const verdicts = async (texts: string[]) => Object.fromEntries(await Promise.all(texts.map(async (t) => [t, verdict(await screen(t))])));

/** A logger whose warnings the test can read. */
function capturingLogger() {
  const lines: { msg: string; screener?: string; err?: string }[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

interface Hit {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local screening webhook on port 0; `answer` decides status, body and delay. */
async function startScreeningWebhook(answer: (hit: Hit) => { status: number; body?: string; delayMs?: number }) {
  const hits: Hit[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const hit = { headers: req.headers, body };
    hits.push(hit);
    const { status, body: reply, delayMs } = answer(hit);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    res.writeHead(status, { "content-type": "application/json" }).end(reply);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/screen`, hits, server };
}

describe("crisis screener: negation", () => {
  it("a negation right before the risk phrase clears it; 'I don't want to live' is risk of its own", async () => {
    expect(
      await verdicts([
        "I would never hurt myself",
        "I don't want to die",
        "I'm not suicidal, just tired",
        "I have no thoughts of harming myself",
        "I'm not going to kill myself, I promise",
        "I don't want to live",
        "I don't want to be alive anymore",
      ]),
    ).toEqual({
      "I would never hurt myself": "-",
      "I don't want to die": "-",
      "I'm not suicidal, just tired": "-",
      "I have no thoughts of harming myself": "-",
      "I'm not going to kill myself, I promise": "-",
      "I don't want to live": "high suicide",
      "I don't want to be alive anymore": "high suicide",
    });
  });

  it("pseudo-negations negate nothing, and a negation does not reach past a new clause", async () => {
    expect(
      await verdicts([
        "I can't stop thinking about killing myself",
        "not gonna lie, I want to die",
        "I'm trying not to hurt myself",
        "i am not ok i want to die",
        "No, I want to die",
        "no one would care if I died",
      ]),
    ).toEqual({
      "I can't stop thinking about killing myself": "high suicide",
      "not gonna lie, I want to die": "high suicide",
      "I'm trying not to hurt myself": "high self_harm",
      "i am not ok i want to die": "high suicide",
      "No, I want to die": "high suicide",
      "no one would care if I died": "medium suicide",
    });
  });
});

describe("crisis screener: idioms", () => {
  it("everyday idioms about killing, dying and hitting are not flagged", async () => {
    const idioms = [
      "this bug is killing me",
      "my feet are killing me",
      "I could kill for a coffee",
      "I'm dying to see you",
      "I nearly died of embarrassment",
      "I thought I was going to die on that roller coaster",
      "that cake is to die for",
      "you absolutely killed it",
      "kill the process and restart the server",
      "shoot me an email when you're free",
      "she's drop dead gorgeous",
      "I nearly killed myself laughing",
      "I need to cut myself some slack",
      "I shot myself in the foot with that deadline",
      "he hit me up on Instagram",
      "she beat me at chess again",
      "my boss will kill me if I'm late",
      "my mom will kill me if I forget her birthday again",
      "he forced me to watch the whole series, worth it",
      "I'll kill you at Mario Kart tonight",
      "if you eat my fries I'll kill you lol",
      "I cut myself shaving this morning",
    ];
    const flagged = (await Promise.all(idioms.map(async (t) => [t, await screen(t)] as const))).filter(([, r]) => r.flagged);
    expect(flagged.map(([t, r]) => `${t}: ${verdict(r)}`)).toEqual([]);
  });

  it("the same verbs aimed at a person are flagged", async () => {
    expect(await verdicts(["I want to kill my boss", "I'm going to hurt him", "I could kill him", "I cut myself on purpose"])).toEqual({
      "I want to kill my boss": "high harm_to_others",
      "I'm going to hurt him": "high harm_to_others",
      "I could kill him": "medium harm_to_others",
      "I cut myself on purpose": "high self_harm",
    });
  });
});

describe("crisis screener: reported speech, third parties and questions", () => {
  it("someone else at risk is flagged low; the writer's own disclosure to someone keeps its severity", async () => {
    expect(
      await verdicts([
        "my friend said she wants to kill herself",
        'my roommate keeps saying "I want to die"',
        "they want to die",
        "my daughter has been cutting herself",
        'my friend said "I am going to kill myself tonight"',
        "I told my therapist I want to die",
      ]),
    ).toEqual({
      "my friend said she wants to kill herself": "low suicide",
      'my roommate keeps saying "I want to die"': "low suicide",
      "they want to die": "low suicide",
      "my daughter has been cutting herself": "low self_harm",
      // Someone else's imminent plan: critical for them, two levels lower for the writer.
      'my friend said "I am going to kill myself tonight"': "medium suicide",
      "I told my therapist I want to die": "high suicide",
    });
  });

  it("news, education and fiction about suicide are not flagged", async () => {
    expect(
      await verdicts([
        "the movie was about suicide",
        "suicide prevention training is on Thursday",
        "the article on suicide rates was sad",
        "Romeo and Juliet kill themselves at the end",
        "Hamlet's soliloquy is about suicide",
        "the team did suicide sprints at practice",
        "that was career suicide haha",
      ]),
    ).toEqual({
      "the movie was about suicide": "-",
      "suicide prevention training is on Thursday": "-",
      "the article on suicide rates was sad": "-",
      "Romeo and Juliet kill themselves at the end": "-",
      "Hamlet's soliloquy is about suicide": "-",
      "the team did suicide sprints at practice": "-",
      "that was career suicide haha": "-",
    });
  });

  it("a clinician's question is not a disclosure, unless the answer was yes", async () => {
    expect(
      await verdicts([
        "Do you ever want to die?",
        "If you ever feel suicidal, call 988",
        "the nurse asked if I have thoughts of suicide, I said no",
        "the nurse asked if I have thoughts of suicide and I said yes",
        "the nurse asked if I self-harm and I said I don't",
        "the nurse asked if I self-harm and I said I do",
      ]),
    ).toEqual({
      "Do you ever want to die?": "-",
      "If you ever feel suicidal, call 988": "-",
      "the nurse asked if I have thoughts of suicide, I said no": "-",
      "the nurse asked if I have thoughts of suicide and I said yes": "high suicide",
      "the nurse asked if I self-harm and I said I don't": "-",
      "the nurse asked if I self-harm and I said I do": "high self_harm",
    });
  });
});

describe("crisis screener: history", () => {
  it("past, recovered experience is flagged low; a relapse or a current time keeps the full severity", async () => {
    expect(
      await verdicts([
        "I used to self-harm but I'm 2 years clean",
        "I tried to kill myself two years ago, but I'm doing much better now",
        "my ex used to beat me",
        "I used to cut but I relapsed last night",
        "I tried to kill myself years ago and I feel the same way again",
      ]),
    ).toEqual({
      "I used to self-harm but I'm 2 years clean": "low self_harm",
      "I tried to kill myself two years ago, but I'm doing much better now": "low suicide",
      "my ex used to beat me": "low abuse",
      "I used to cut but I relapsed last night": "high self_harm",
      "I tried to kill myself years ago and I feel the same way again": "high suicide",
    });
  });
});

describe("crisis screener: obfuscation", () => {
  it("spacing, punctuation, leetspeak, repeated letters, look-alike and invisible characters are seen through", async () => {
    const variants = [
      "k i l l  m y s e l f",
      "k i l l m y s e l f",
      "k.i.l.l m.y.s.e.l.f",
      "k-i-l-l myself",
      "I w a n t  t o  d i e",
      "i want to k1ll mys3lf",
      "I w4nt t0 d1e",
      "$u!c!dal",
      "I wanna diiiiie",
      "i want to diee",
      "kiiiill myyyself",
      "i want to kil myself",
      "ｋｉｌｌ ｍｙｓｅｌｆ",
      "kill my\u200bself",
      "kіll myself", // Cyrillic і
      "kíll mýself",
      "im gonna kms",
      "thinking about sewer slide",
    ];
    const results = await Promise.all(variants.map(async (t) => [t, await screen(t)] as const));
    expect(results.filter(([, r]) => r.category !== "suicide").map(([t, r]) => `${t}: ${verdict(r)}`)).toEqual([]);
  });

  it("numbers stay numbers: doses and times are not read as leetspeak", async () => {
    expect((await screen("I took 30mg at 5pm")).flagged).toBe(false);
    expect(screener.explain("I took 30mg at 5pm").tokens.map((forms) => forms[0])).toEqual(["i", "took", "30mg", "at", "5pm"]);
  });
});

describe("crisis screener: severity", () => {
  it("critical for intent, plan, means or timing; high for ideation; medium for passive; low for ambiguous", async () => {
    expect(
      await verdicts([
        "I'm going to kill myself tonight",
        "I have the pills ready",
        "I've written my suicide note",
        "I want to die",
        "I wish I wasn't alive",
        "everyone would be better off without me",
        "I'm such a burden to my family",
        "I can't do this anymore",
        "I'm going to shoot up the school",
        "I'm going to stab him when he gets home",
        "I'm bringing a knife to school tomorrow",
        "he threatened to kill me",
        "he said he'd kill me if I leave him",
        "he hits me",
        "my partner hurts me when he drinks",
        "I'm scared to go home",
      ]),
    ).toEqual({
      "I'm going to kill myself tonight": "critical suicide",
      "I have the pills ready": "critical suicide",
      "I've written my suicide note": "critical suicide",
      "I want to die": "high suicide",
      "I wish I wasn't alive": "high suicide",
      "everyone would be better off without me": "medium suicide",
      "I'm such a burden to my family": "medium suicide",
      "I can't do this anymore": "low suicide",
      "I'm going to shoot up the school": "critical harm_to_others",
      "I'm going to stab him when he gets home": "critical harm_to_others",
      "I'm bringing a knife to school tomorrow": "critical harm_to_others",
      "he threatened to kill me": "critical abuse",
      "he said he'd kill me if I leave him": "critical abuse",
      "he hits me": "high abuse",
      "my partner hurts me when he drinks": "high abuse",
      "I'm scared to go home": "medium abuse",
    });
  });

  it("a time word raises ideation to critical", async () => {
    expect(verdict(await screen("I want to kill myself"))).toBe("high suicide");
    expect(verdict(await screen("I want to kill myself tonight"))).toBe("critical suicide");
  });

  it("matches come most severe first, with short excerpts of the matched words only", async () => {
    const long = `${"It has been a long week at work and I am exhausted. ".repeat(20)}He hits me. I want to die.`;
    const result = await screen(long);
    expect(result).toMatchObject({ flagged: true, severity: "high", category: "suicide", rulesVersion: screener.rulesVersion });
    expect(result.matches.map((m) => [m.ruleId, m.excerpt])).toEqual([
      ["suicide.ideation.active", "want to die"],
      ["abuse.physical", "He hits me"],
    ]);
    for (const m of result.matches) expect(m.excerpt.length).toBeLessThanOrEqual(60);
  });
});

describe("crisis screener: mood updates", () => {
  it("a low score raises risky text one level", async () => {
    expect(verdict(await screen("I want to die", { kind: "mood", moodScore: 1 }))).toBe("critical suicide");
    expect(verdict(await screen("I want to die", { kind: "mood", moodScore: 4 }))).toBe("high suicide");
  });

  it("a low score alone is flagged low, without a category; an ordinary score is not flagged", async () => {
    expect(await screen("rough day at work", { kind: "mood", moodScore: 1 })).toEqual({ flagged: true, severity: "low", matches: [], rulesVersion: screener.rulesVersion, lowMood: true });
    expect(await screen("", { kind: "mood", moodScore: 1 })).toMatchObject({ flagged: true, severity: "low", lowMood: true });
    expect((await screen("rough day at work", { kind: "mood", moodScore: 3 })).flagged).toBe(false);
    // The score belongs to mood updates; a chat message carrying one is not escalated.
    expect(verdict(await screen("I want to die", { kind: "message", moodScore: 1 }))).toBe("high suicide");
  });

  it("apps with another mood scale set their own threshold", async () => {
    const tenPoint = new CrisisScreener({ moodLowAtOrBelow: 2 });
    expect((await tenPoint.screen(input("meh", { kind: "mood", moodScore: 2 }))).lowMood).toBe(true);
    expect((await tenPoint.screen(input("meh", { kind: "mood", moodScore: 3 }))).flagged).toBe(false);
  });
});

describe("crisis screener: hostile input", () => {
  it("never rejects, whatever it is given", async () => {
    const odd = [
      input(""),
      input("   \n\t  "),
      input("\ud800\udfff\ud800 lone surrogates \udc00"),
      input("\u0000\u0001\u0002 control characters"),
      { ...input("x"), text: null } as unknown as ScreenInput,
      { ...input("x"), text: 42 } as unknown as ScreenInput,
      {} as ScreenInput,
      input("I want to die", { kind: "mood", moodScore: Number.NaN }),
    ];
    for (const i of odd) await expect(screener.screen(i)).resolves.toMatchObject({ rulesVersion: screener.rulesVersion });
  });

  it("100 KB adversarial strings finish well within a second each", async () => {
    const adversarial = [
      "a".repeat(100_000),
      "k i l l ".repeat(12_500),
      "k1ll 1 1 1 ".repeat(10_000),
      "i want to i want to ".repeat(5_000),
      `${"kiii".repeat(25_000)}`,
      ".,!?;-".repeat(17_000),
      "\u200b".repeat(100_000),
      "😂🔪".repeat(25_000),
      "I want to kill myself tonight because nobody would care. ".repeat(1_800),
    ];
    for (const text of adversarial) {
      const started = performance.now();
      const result = await screen(text);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(result.matches.length).toBeLessThanOrEqual(10);
    }
  });

  it("a chat body at the protocol's 8,000-character limit is screened to its end; text past the cap is not", async () => {
    const filler = "all good here, just checking in. ".repeat(240).slice(0, 7_980);
    expect(verdict(await screen(`${filler} I want to die`))).toBe("high suicide");
    expect(verdict(await screen(`${" ".repeat(5_000)}${filler} I want to die`))).toBe("high suicide");
    expect((await screen(`${filler}${"x".repeat(100)} I want to die`)).flagged).toBe(false);
  });

  it("the cap counts characters as the body limit does: 4,000 emoji and a disclosure, 16,000 UTF-16 units, are screened to the end", async () => {
    const emoji = "😀".repeat(4_000);
    expect(verdict(await screen(`${emoji} I'm going to kill myself tonight`))).toBe("critical suicide");
    // Past 8,000 code points the cap still holds.
    expect((await screen(`${"😀".repeat(8_000)} I want to die`)).flagged).toBe(false);
  });
});

describe("crisis rules file", () => {
  it("the rules are data: a minimal file of our own replaces the built-in knowledge", async () => {
    const rules = {
      version: "0.1.0",
      limits: { maxInputChars: 1000, maxMatches: 5, excerptChars: 40 },
      normalization: { leet: {}, homoglyphs: {}, contractions: { words: {}, suffixes: {} }, spellings: {} },
      terms: { SOON: ["tonight", "right now"] },
      categoryPriority: ["abuse", "suicide", "self_harm", "harm_to_others"],
      mood: { lowAtOrBelow: 0, aloneSeverity: null, escalateBy: 0 },
      rules: [{ id: "demo.code-red", category: "abuse", severity: "high", patterns: ["code red <SOON>?"] }],
      modifiers: [{ id: "drill", description: "drills are practice", cues: ["drill"], where: "sentence", effect: "suppress" }],
    };
    const custom = new CrisisScreener({ rules });
    expect(verdict(await custom.screen(input("Code red tonight")))).toBe("high abuse");
    expect((await custom.screen(input("code red drill at noon"))).flagged).toBe(false);
    expect((await custom.screen(input("I want to die"))).flagged).toBe(false);
  });

  it("a malformed rules file is refused at construction with every problem and where it is", () => {
    const broken = structuredClone(builtinRules);
    delete broken.version;
    broken.rules[0].severity = "extreme";
    const error = (() => {
      try {
        new CrisisScreener({ rules: broken });
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(CrisisRulesError);
    expect((error as CrisisRulesError).problems).toEqual([expect.stringMatching(/^version: /), expect.stringMatching(/^rules\.0\.severity: /)]);
    expect((error as Error).message).toMatch(/^invalid crisis rules:/);
  });

  it("bad patterns are refused with the path of the pattern and what is wrong", () => {
    const cases: [(rules: typeof builtinRules) => void, RegExp][] = [
      [(r) => (r.rules[0].patterns = ["i don't want"]), /rules\.0\.patterns\.0: "don't" is not a normalized word/],
      [(r) => (r.rules[0].patterns = ["<NOPE> die"]), /rules\.0\.patterns\.0: unknown term <NOPE>/],
      [(r) => (r.rules[0].patterns = ["~2 die"]), /rules\.0\.patterns\.0: .*a gap cannot start or end a pattern/],
      [(r) => (r.rules[0].patterns = ["want {to die"]), /rules\.0\.patterns\.0: .*unbalanced braces/],
      [(r) => (r.terms.LOOP = ["<LOOP> again"]), /terms\.LOOP: term <LOOP> refers to itself/],
      [(r) => (r.rules[1].id = r.rules[0].id), /rules\.1\.id: duplicate id/],
      [(r) => (r.modifiers[0].effect = { shift: 9 }), /modifiers\.0\.effect/],
    ];
    for (const [breakIt, expected] of cases) {
      const rules = structuredClone(builtinRules);
      breakIt(rules);
      expect(() => new CrisisScreener({ rules })).toThrow(expected);
    }
  });
});

describe("app screeners", () => {
  const hookInput = input("see you at the clinic, code purple");

  it("a library hook adds its flag; the most severe screener decides severity and category", async () => {
    const { logger } = capturingLogger();
    const composite = new CompositeScreener({
      builtin: screener,
      hooks: [{ name: "clinic", screen: async ({ text }) => (text.includes("code purple") ? { flagged: true, severity: "critical", category: "abuse" } : undefined) }],
      logger,
    });
    expect(await composite.screen(hookInput)).toMatchObject({
      flagged: true,
      severity: "critical",
      category: "abuse",
      matches: [{ ruleId: "app:clinic", category: "abuse", severity: "critical", excerpt: "" }],
    });
    const both = await composite.screen(input("code purple. I want to die"));
    expect(both.matches.map((m) => m.ruleId)).toEqual(["app:clinic", "suicide.ideation.active"]);
    // An app flag below the built-in one does not lower it.
    const milder = new CompositeScreener({ builtin: screener, hooks: [{ name: "mild", screen: async () => ({ flagged: true, severity: "low", category: "abuse" }) }], logger });
    expect(verdict(await milder.screen(input("I want to die")))).toBe("high suicide");
    // An app saying "not flagged" cannot clear the built-in flag.
    const denier = new CompositeScreener({ builtin: screener, hooks: [{ name: "denier", screen: async () => ({ flagged: false }) }], logger });
    expect(verdict(await denier.screen(input("I want to die")))).toBe("high suicide");
  });

  it("a hook that throws, hangs or answers garbage is logged and skipped; the built-in result stands", async () => {
    const { logger, lines } = capturingLogger();
    const composite = new CompositeScreener({
      builtin: screener,
      hooks: [
        { name: "thrower", screen: async () => Promise.reject(new Error("model server down")) },
        { name: "hanger", screen: () => new Promise(() => {}), timeoutMs: 50 },
        { name: "garbage", screen: async () => ({ flagged: "yes", severity: "extreme" }) as never },
      ],
      logger,
    });
    const started = performance.now();
    const result = await composite.screen(input("I want to die"));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({ flagged: true, severity: "high", category: "suicide", unavailable: ["thrower", "hanger", "garbage"] });
    expect(new Set(lines.map((l) => l.screener))).toEqual(new Set(["thrower", "hanger", "garbage"]));
    expect(lines.find((l) => l.screener === "thrower")?.err).toBe("model server down");
    expect(JSON.stringify(lines)).not.toContain("want to die");
  });

  it("the webhook receives the input as signed JSON and its flag is combined", async () => {
    const hook = await startScreeningWebhook(() => ({ status: 200, body: JSON.stringify({ flagged: true, severity: "critical", category: "harm_to_others" }) }));
    const { logger } = capturingLogger();
    const composite = new CompositeScreener({ builtin: screener, hooks: [webhookScreener({ url: hook.url, secret: "screen-secret-0123456789" })], logger });
    const result = await composite.screen(input("see you soon", { kind: "mood", moodScore: 2 }));
    expect(result).toMatchObject({ flagged: true, severity: "critical", category: "harm_to_others", matches: [{ ruleId: "app:webhook" }] });
    const [hit] = hook.hits;
    expect(JSON.parse(hit!.body)).toEqual({ tenantId: "acme", userId: "u1", text: "see you soon", kind: "mood", moodScore: 2 });
    expect(hit!.headers["content-type"]).toBe("application/json");
    expect(verifyWebhook("screen-secret-0123456789", hit!.body, hit!.headers["x-switchboard-signature"] as string)).toBe(true);
  });

  it("a webhook answering 204 has no opinion", async () => {
    const hook = await startScreeningWebhook(() => ({ status: 204 }));
    const composite = new CompositeScreener({ builtin: screener, hooks: [webhookScreener({ url: hook.url })], logger: capturingLogger().logger });
    expect(await composite.screen(input("hello"))).toEqual({ flagged: false, matches: [], rulesVersion: screener.rulesVersion });
  });

  it("a failing, slow, malformed or unreachable webhook falls back to the built-in result without holding the message", async () => {
    const failing = await startScreeningWebhook(() => ({ status: 500, body: "{}" }));
    const slow = await startScreeningWebhook(() => ({ status: 200, body: JSON.stringify({ flagged: true, severity: "critical" }), delayMs: 3000 }));
    const malformed = await startScreeningWebhook(() => ({ status: 200, body: "<html>oops</html>" }));
    const closed = await startScreeningWebhook(() => ({ status: 200 }));
    await new Promise((resolve) => closed.server.close(resolve));
    const { logger, lines } = capturingLogger();
    const composite = new CompositeScreener({
      builtin: screener,
      hooks: [
        webhookScreener({ url: failing.url, name: "failing" }),
        webhookScreener({ url: slow.url, name: "slow", timeoutMs: 200 }),
        webhookScreener({ url: malformed.url, name: "malformed" }),
        webhookScreener({ url: closed.url, name: "closed" }),
      ],
      logger,
    });
    const started = performance.now();
    const result = await composite.screen(input("he hits me"));
    expect(performance.now() - started).toBeLessThan(1500);
    expect(result).toMatchObject({ flagged: true, severity: "high", category: "abuse", matches: [{ ruleId: "abuse.physical" }] });
    expect(new Set(result.unavailable)).toEqual(new Set(["failing", "slow", "malformed", "closed"]));
    expect(lines.find((l) => l.screener === "failing")?.err).toBe("screening webhook answered 500");
    expect(lines.find((l) => l.screener === "malformed")?.err).toMatch(/something other than/);
    expect(lines).toHaveLength(4);
  });
});

describe("crisis evaluation set", () => {
  const cases = parseEvalSet(readFileSync(new URL("./fixtures/crisis-eval.v1.jsonl", import.meta.url), "utf8"));

  it("holds at least 300 phrases, about half risky, with a held-out split", () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    const risky = cases.filter((c) => c.label === "risk").length;
    expect(risky / cases.length).toBeGreaterThan(0.4);
    expect(risky / cases.length).toBeLessThan(0.6);
    expect(cases.filter((c) => c.split === "holdout").length).toBeGreaterThanOrEqual(100);
  });

  it("recall and false-positive rate stay within the bounds measured for rules 1.2", async () => {
    const outcomes = await runEvaluation(screener, cases);
    const all = summarize(outcomes).overall;
    const holdout = summarize(outcomes.filter((o) => o.case.split === "holdout")).overall;
    // Measured on rules 1.2.0 and 1.2.1 (docs/crisis-screening.md): all 631 phrases recall 92.4%,
    // FPR 1.9%; held-out round 3 recall 65.0%, FPR 8.3%. The bounds leave a margin of a
    // few phrases, so a real regression fails CI and a one-phrase wobble does not.
    expect(all.recall).toBeGreaterThanOrEqual(0.9);
    expect(all.falsePositiveRate).toBeLessThanOrEqual(0.04);
    expect(holdout.recall).toBeGreaterThanOrEqual(0.6);
    expect(holdout.falsePositiveRate).toBeLessThanOrEqual(0.12);
  });
});
