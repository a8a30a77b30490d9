import { createHmac } from "node:crypto";
import PusherServer from "pusher";
import { describe, expect, it } from "vitest";
import { isPublicPusherId, mapPusherChannel, presenceNameOf } from "../src/transports/pusher/channel-names.js";
import { channelAuth, requestSigningString, safeEqual, verifyChannelAuth, verifyUserAuth } from "../src/transports/pusher/signatures.js";

function mapped(name: string) {
  const result = mapPusherChannel(name);
  return result.ok ? { type: result.channel.type, channel: result.channel.channel } : { refused: result.reason };
}

describe("Pusher channel names map to tenant channels", () => {
  it("private- and presence- names with a dot become kind:id at the first dot", () => {
    expect(mapped("private-patient.42")).toEqual({ type: "private", channel: "patient:42" });
    expect(mapped("presence-visit.7.a")).toEqual({ type: "presence", channel: "visit:7.a" });
    expect(mapped("private-conversation.c-1")).toEqual({ type: "private", channel: "conversation:c-1" });
  });

  it("private- and presence- names that are not a valid kind.id keep their full name under pusher:", () => {
    expect(mapped("private-chat")).toEqual({ type: "private", channel: "pusher:private-chat" });
    expect(mapped("presence-lobby")).toEqual({ type: "presence", channel: "pusher:presence-lobby" });
    // Laravel Echo style names: the kind would be "App", not a Switchboard kind.
    expect(mapped("private-App.Models.User.1")).toEqual({ type: "private", channel: "pusher:private-App.Models.User.1" });
    // The pusher kind is never reached through the dotted form.
    expect(mapped("private-pusher.news")).toEqual({ type: "private", channel: "pusher:private-pusher.news" });
    expect(mapped("private-encrypted-doc.1")).toEqual({ type: "private", channel: "pusher:private-encrypted-doc.1" });
  });

  it("public names map to topic: or pusher:, and a public name with another dot is refused", () => {
    expect(mapped("topic.news")).toEqual({ type: "public", channel: "topic:news" });
    expect(mapped("news")).toEqual({ type: "public", channel: "pusher:news" });
    expect(mapped("patient.42")).toEqual({ refused: expect.stringContaining("topic.") });
    expect(mapped("user.alice")).toHaveProperty("refused");
  });

  it("#server-to-user- names are the user's channel", () => {
    expect(mapped("#server-to-user-bob")).toEqual({ type: "user", channel: "user:bob" });
    expect(mapPusherChannel("#server-to-user-bob")).toMatchObject({ ok: true, channel: { userId: "bob" } });
  });

  it("names too long, empty, or outside Pusher's alphabet are refused", () => {
    expect(mapped("")).toHaveProperty("refused");
    expect(mapped("a".repeat(165))).toHaveProperty("refused");
    // A name kept whole under pusher: is a channel id, at most 128 characters.
    expect(mapped("a".repeat(128))).toEqual({ type: "public", channel: `pusher:${"a".repeat(128)}` });
    expect(mapped("a".repeat(129))).toHaveProperty("refused");
    expect(mapped("private-chat:1")).toHaveProperty("refused");
    expect(mapped("news room")).toHaveProperty("refused");
    // Pusher allows , and ; but channel ids do not.
    expect(mapped("a,b")).toHaveProperty("refused");
  });

  it("a public name can never reach an authorized kind", () => {
    for (const name of ["patient.42", "private-x", "presence-x", "user.bob", "conversation.c1", "tenant.acme"]) {
      const result = mapPusherChannel(name);
      if (result.ok && result.channel.type === "public") {
        expect(result.channel.channel.startsWith("topic:") || result.channel.channel.startsWith("pusher:")).toBe(true);
        expect(isPublicPusherId(result.channel.channel.slice("pusher:".length))).toBe(true);
      }
    }
  });

  it("presence names of channels round-trip, and channels without one have none", () => {
    expect(presenceNameOf("topic:news")).toBe("presence-topic.news");
    expect(presenceNameOf("pusher:presence-lobby")).toBe("presence-lobby");
    expect(presenceNameOf("pusher:news")).toBeUndefined();
    expect(presenceNameOf("patient:a+b")).toBeUndefined();
  });

  it("Socket.IO users may join only public pusher: ids", () => {
    expect(isPublicPusherId("news")).toBe(true);
    expect(isPublicPusherId("private-chat")).toBe(false);
    expect(isPublicPusherId("presence-lobby")).toBe(false);
  });
});

describe("Pusher signatures", () => {
  const app = { key: "k", secret: "s3cret-s3cret" };

  it("channel auth matches the official library's authorizeChannel, with and without channel_data", () => {
    const lib = new PusherServer({ appId: "1", key: app.key, secret: app.secret, host: "127.0.0.1" });
    expect(channelAuth(app, "1.2", "private-a.b")).toBe(lib.authorizeChannel("1.2", "private-a.b").auth);
    const signed = lib.authorizeChannel("1.2", "presence-a.b", { user_id: "u", user_info: { name: "U" } });
    expect(verifyChannelAuth(app, "1.2", "presence-a.b", signed.auth, signed.channel_data)).toBe(true);
    expect(verifyChannelAuth(app, "1.2", "presence-a.b", signed.auth, `${signed.channel_data} `)).toBe(false);
    expect(verifyChannelAuth(app, "1.3", "presence-a.b", signed.auth, signed.channel_data)).toBe(false);
  });

  it("user auth matches the official library's authenticateUser", () => {
    const lib = new PusherServer({ appId: "1", key: app.key, secret: app.secret, host: "127.0.0.1" });
    const signed = lib.authenticateUser("1.2", { id: "bob" });
    expect(verifyUserAuth(app, "1.2", signed.user_data, signed.auth)).toBe(true);
    expect(verifyUserAuth(app, "1.2", signed.user_data.replace("bob", "eve"), signed.auth)).toBe(false);
  });

  it("comparison refuses different lengths and different contents", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("abc", "abd")).toBe(false);
  });

  it("the request signing string sorts lower-cased keys and leaves out auth_signature", () => {
    const text = requestSigningString("post", "/apps/1/events", { b: "2", auth_signature: "x", A: "1" });
    expect(text).toBe("POST\n/apps/1/events\na=1&b=2");
    expect(createHmac("sha256", "s").update(text).digest("hex")).toHaveLength(64);
  });
});
