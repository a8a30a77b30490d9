import { isReservedEventName } from "@switchboard/protocol";
import { OUTBOX_TABLE, TABLE_PATTERN } from "../transports/pg-notify/notify-payload.js";

export interface TriggerOptions {
  /** The app's table, `table` or `schema.table`. */
  table: string;
  /** Event name delivered to clients, e.g. `mood_update`. */
  event: string;
  /** SQL expression for the channel, e.g. `'user:' || NEW.user_id`. */
  channel: string;
  /** Fixed tenant id, or a SQL expression with `tenantExpr`. */
  tenant?: string;
  tenantExpr?: string;
  /** LISTEN/NOTIFY channel (default `switchboard_events`). */
  notifyChannel?: string;
  /** Row operations that fire it (default insert). */
  on?: ("insert" | "update")[];
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * SQL that makes an INSERT (or UPDATE) in the app's table reach Switchboard
 * through the Postgres bridge: a trigger function that NOTIFYs
 * `{ tenant, channel, event, data: <the row> }`. A row whose event would exceed
 * NOTIFY's 8,000-byte payload limit is written to the outbox table
 * `switchboard_event_outbox` instead, and the NOTIFY names only its outbox id
 * (`{ outbox: { schema, id } }`); the bridge deletes that outbox row and
 * publishes what it holds.
 *
 * Why an outbox rather than a reference to the app's row: any database role may
 * NOTIFY, so a payload naming a table and an id made the bridge read any row its
 * login could read (another role's secrets) and publish it to a channel of the
 * sender's choosing. An outbox row holds an event the trigger built; rows of
 * other tables are never read, and no id column is needed. For
 * `schema.table`, the function and the outbox live in that schema (dropping
 * the schema removes them); otherwise the outbox is `public.switchboard_event_outbox`.
 *
 * @example
 * triggerSql({ table: "moods", event: "mood_update", channel: "'user:' || NEW.user_id", tenant: "acme" })
 */
export function triggerSql(options: TriggerOptions): string {
  const notifyChannel = options.notifyChannel ?? "switchboard_events";
  const on = options.on ?? ["insert"];
  if (!TABLE_PATTERN.test(options.table)) throw new Error("--table must be a lowercase table name (optionally schema.table)");
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(options.event)) throw new Error("--event must be 1-100 characters of A-Z a-z 0-9 _ . : -");
  // The bridge would refuse every event of such a trigger: say so now rather than in its log.
  if (isReservedEventName(options.event)) throw new Error(`--event "${options.event}" is a name Switchboard emits or reserves; pick an app event name (e.g. mood_update)`);
  if (!IDENT.test(notifyChannel)) throw new Error("--notify-channel must be a lowercase identifier");
  if (!options.tenant && !options.tenantExpr) throw new Error("give --tenant <id> or --tenant-expr <sql>");
  if (options.tenant && !/^[A-Za-z0-9_.-]{1,64}$/.test(options.tenant)) throw new Error("--tenant must be a tenant id");
  const tenant = options.tenantExpr ?? `'${options.tenant}'`;
  const base = options.table.replace(".", "_");
  const fn = `switchboard_notify_${base}_${options.event.replace(/[^A-Za-z0-9_]/g, "_").toLowerCase()}`.slice(0, 63);
  const trigger = fn.replace("switchboard_notify_", "switchboard_").slice(0, 63);
  // The function lives in the table's schema (the trigger always does), so dropping that
  // schema drops both; unqualified, it landed in the first schema of the search path.
  const schema = options.table.includes(".") ? options.table.split(".")[0]! : undefined;
  const qualifiedFn = schema ? `${schema}.${fn}` : fn;
  const outboxSchema = schema ?? "public";
  const outbox = `${outboxSchema}.${OUTBOX_TABLE}`;
  const head = `'tenant', ${tenant}, 'channel', ${options.channel}, 'event', '${options.event}'`;
  const operations = on.map((o) => (o === "insert" ? "inserted" : "updated")).join(" or ");
  return `-- Switchboard: publish "${options.event}" when rows of ${options.table} are ${operations}.
-- Events over NOTIFY's 8,000-byte limit wait in ${outbox} until Switchboard takes them:
-- its login (EVENTS_DATABASE_URL) needs select and delete on that table.
create table if not exists ${outbox} (
  id bigserial primary key,
  payload jsonb not null,
  created_at timestamptz not null default now()
);
create index if not exists ${OUTBOX_TABLE}_created_at on ${outbox} (created_at);

-- Security definer: a role that may insert into ${options.table} but not into the outbox still
-- writes its large rows (the outbox stays closed to it); the search path is fixed as it is now.
create or replace function ${qualifiedFn}() returns trigger language plpgsql
  security definer set search_path from current as $switchboard$
declare
  payload text;
  outbox_id bigint;
begin
  payload := json_build_object(${head}, 'data', row_to_json(NEW))::text;
  if octet_length(payload) > 7900 then
    -- Events nobody took (Switchboard was down; NOTIFY is not queued) go after an hour.
    delete from ${outbox} where created_at < now() - interval '1 hour';
    insert into ${outbox} (payload) values (payload::jsonb) returning id into outbox_id;
    payload := json_build_object('outbox', json_build_object('schema', '${outboxSchema}', 'id', outbox_id))::text;
  end if;
  perform pg_notify('${notifyChannel}', payload);
  return NEW;
end
$switchboard$;

drop trigger if exists ${trigger} on ${options.table};
create trigger ${trigger} after ${on.join(" or ")} on ${options.table}
  for each row execute function ${qualifiedFn}();
`;
}
