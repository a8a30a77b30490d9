import type { Migration } from "../migrations.js";

/**
 * A push endpoint is one browser's: registering it for a user takes it from
 * whoever registered it before (another user signed in on a shared device),
 * which looks rows up by endpoint alone.
 */
export const migration010: Migration = {
  version: 10,
  name: "push_subscriptions_endpoint",
  sql: `
    create index push_subscriptions_endpoint on push_subscriptions (endpoint);
  `,
};
