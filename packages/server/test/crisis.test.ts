import { describe, expect, it } from "vitest";
import { collect, nextEvent, sleep, startServer } from "./support/server-harness.js";
import { createGroup, fails, ok } from "./support/chat-helpers.js";

describe("crisis screening of chat", () => {
  it("a risky message is still delivered, and support staff of the tenant get a stored crisis:alert", async () => {
    const { connect, server } = await startServer();
    const patient = await connect({ sub: "pat", tenant: "acme", roles: ["patient"] });
    const coach = await connect({ sub: "coach", tenant: "acme", roles: ["provider"] });
    const support = await connect({ sub: "sam", tenant: "acme", roles: ["support"] });
    const otherSupport = await connect({ sub: "sue", tenant: "globex", roles: ["support"] });
    const leaks = [collect(coach.socket, "crisis:alert"), collect(otherSupport.socket, "crisis:alert")];
    const id = await createGroup(patient.socket, ["coach"]);
    const delivered = nextEvent<any>(coach.socket, "message:new");
    const alerted = nextEvent<any>(support.socket, "crisis:alert");
    const { message } = await ok(patient.socket, "message:send", { conversationId: id, body: "I can't go on, I want to kill myself tonight" });
    expect((await delivered).message.id).toBe(message.id);
    const alert = await alerted;
    expect(alert).toMatchObject({ tenantId: "acme", userId: "pat", conversationId: id, messageId: message.id, category: "suicide", status: "open" });
    expect(["high", "critical"]).toContain(alert.severity);
    expect(alert.excerpt.length).toBeGreaterThan(0);
    expect(alert.excerpt.length).toBeLessThanOrEqual(60);
    const { rows } = await server.database.query("select id from crisis_alerts");
    expect(rows).toHaveLength(1);
    await sleep(100);
    expect(leaks.flat()).toEqual([]);
  });

  it("a message edited into crisis text raises an alert; editing it again while that alert is open raises none", async () => {
    const { connect, server } = await startServer();
    const patient = await connect({ sub: "pat", tenant: "acme", roles: ["patient"] });
    const support = await connect({ sub: "sam", tenant: "acme", roles: ["support"] });
    const alerts = collect<any>(support.socket, "crisis:alert");
    const id = await createGroup(patient.socket, ["coach"]);
    const { message } = await ok(patient.socket, "message:send", { conversationId: id, body: "hello there" });
    await sleep(100);
    expect(alerts).toEqual([]);
    const alerted = nextEvent<any>(support.socket, "crisis:alert");
    const edited = await ok(patient.socket, "message:edit", { messageId: message.id, body: "I'm going to kill myself tonight" });
    expect(edited.message.body).toBe("I'm going to kill myself tonight");
    expect(await alerted).toMatchObject({ userId: "pat", conversationId: id, messageId: message.id, category: "suicide", status: "open" });
    // A typo fixed in the flagged message is not a second crisis.
    await ok(patient.socket, "message:edit", { messageId: message.id, body: "I'm going to kill myself tonight." });
    await sleep(150);
    expect(alerts).toHaveLength(1);
    expect((await server.database.query("select id from crisis_alerts")).rows).toHaveLength(1);
  });

  it("idioms and negations raise nothing", async () => {
    const { connect } = await startServer();
    const patient = await connect({ sub: "pat", tenant: "acme" });
    const support = await connect({ sub: "sam", tenant: "acme", roles: ["support"] });
    const alerts = collect(support.socket, "crisis:alert");
    const id = await createGroup(patient.socket, ["coach"]);
    for (const body of ["this bug is killing me", "I could kill for a coffee", "I would never hurt myself"]) {
      await ok(patient.socket, "message:send", { conversationId: id, body });
    }
    await sleep(150);
    expect(alerts).toEqual([]);
  });

  it("support acknowledges and resolves; other roles are refused; an acknowledged critical alert is not escalated", async () => {
    const { connect } = await startServer({ env: { CRISIS_SLA_MS: "400" } });
    const patient = await connect({ sub: "pat", tenant: "acme" });
    const support = await connect({ sub: "sam", tenant: "acme", roles: ["support"] });
    const admin = await connect({ sub: "ada", tenant: "acme", roles: ["admin"] });
    const escalations = collect<any>(admin.socket, "crisis:alert");
    const id = await createGroup(patient.socket, ["coach"]);
    const alerted = nextEvent<any>(support.socket, "crisis:alert");
    await ok(patient.socket, "message:send", { conversationId: id, body: "I have the pills ready and I'm going to kill myself tonight" });
    const { alertId, severity } = await alerted;
    expect(severity).toBe("critical");
    expect(await fails(patient.socket, "crisis:acknowledge", { alertId })).toBe("forbidden");
    const updated = nextEvent<any>(admin.socket, "crisis:updated");
    expect((await ok(support.socket, "crisis:acknowledge", { alertId })).alert).toMatchObject({ status: "acknowledged", acknowledgedBy: "sam" });
    expect((await updated).status).toBe("acknowledged");
    expect(await fails(support.socket, "crisis:acknowledge", { alertId })).toBe("conflict");
    // A resolution the store cannot hold as sent is refused, and the alert stays acknowledged.
    expect(await fails(admin.socket, "crisis:resolve", { alertId, resolution: "called\u0000 back" })).toBe("bad_request");
    expect(await fails(admin.socket, "crisis:resolve", { alertId, resolution: "called \uD800 back" })).toBe("bad_request");
    expect((await ok(support.socket, "crisis:list", { status: "acknowledged" })).alerts).toHaveLength(1);
    // An id that is not one of the server's UUIDs names no alert.
    expect(await fails(support.socket, "crisis:resolve", { alertId: "alert-123" })).toBe("not_found");
    expect((await ok(admin.socket, "crisis:resolve", { alertId, resolution: "called the patient; safety plan in place" })).alert.status).toBe("resolved");
    await sleep(700);
    expect(escalations).toEqual([]);
    expect((await ok(support.socket, "crisis:list", { status: "resolved" })).alerts).toHaveLength(1);
    expect(await fails(support.socket, "crisis:acknowledge", { alertId: "00000000-0000-4000-8000-000000000000" })).toBe("not_found");
  });

  it("an unacknowledged critical alert is escalated to role:admin once its SLA runs out", async () => {
    const { connect } = await startServer({ env: { CRISIS_SLA_MS: "300" } });
    const patient = await connect({ sub: "pat", tenant: "acme" });
    const admin = await connect({ sub: "ada", tenant: "acme", roles: ["admin"] });
    const escalations = collect<any>(admin.socket, "crisis:alert");
    const id = await createGroup(patient.socket, ["coach"]);
    await ok(patient.socket, "message:send", { conversationId: id, body: "I have the pills ready and I'm going to kill myself tonight" });
    await sleep(1000);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ escalated: true, severity: "critical", userId: "pat" });
  });

  it("a low mood with worrying words raises a mood alert", async () => {
    const { connect } = await startServer();
    const patient = await connect({ sub: "pat", tenant: "acme" });
    const support = await connect({ sub: "sam", tenant: "acme", roles: ["support"] });
    const alerted = nextEvent<any>(support.socket, "crisis:alert");
    await ok(patient.socket, "presence:setStatus", { status: "online", custom: { text: "I want to die", mood: { value: 1, label: "awful" } } });
    expect(await alerted).toMatchObject({ userId: "pat", conversationId: null, messageId: null, kind: "mood" });
  });

  it("an app screener (library hook) adds flags the built-in rules do not see", async () => {
    const { connect } = await startServer({
      screeners: [{ name: "clinic", screen: async ({ text }) => (text.includes("code blue") ? { flagged: true, severity: "high", category: "self_harm" } : undefined) }],
    });
    const patient = await connect({ sub: "pat", tenant: "acme" });
    const support = await connect({ sub: "sam", tenant: "acme", roles: ["support"] });
    const alerted = nextEvent<any>(support.socket, "crisis:alert");
    const id = await createGroup(patient.socket, ["coach"]);
    await ok(patient.socket, "message:send", { conversationId: id, body: "code blue in room 4" });
    expect(await alerted).toMatchObject({ severity: "high", category: "self_harm" });
  });
});
