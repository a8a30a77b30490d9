import { TABLE_PATTERN } from "../transports/pg-notify/notify-payload.js";

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
  /** Primary key column for the large-row reference (default `id`). */
  idColumn?: string;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * SQL that makes an INSERT (or UPDATE) in the app's table reach Switchboard
 * through the Postgres bridge: a trigger function that NOTIFYs
 * `{ tenant, channel, event, data: <the row> }`, or a row reference when the row
 * would exceed NOTIFY's 8,000-byte payload limit. For `schema.table` the
 * function is created in that schema, next to its trigger.
 *
 * @example
 * triggerSql({ table: "moods", event: "mood_update", channel: "'user:' || NEW.user_id", tenant: "acme" })
 */
export function triggerSql(options: TriggerOptions): string {
  const notifyChannel = options.notifyChannel ?? "switchboard_events";
  const idColumn = options.idColumn ?? "id";
  const on = options.on ?? ["insert"];
  if (!TABLE_PATTERN.test(options.table)) throw new Error("--table must be a lowercase table name (optionally schema.table)");
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(options.event)) throw new Error("--event must be 1-100 characters of A-Z a-z 0-9 _ . : -");
  if (!IDENT.test(notifyChannel)) throw new Error("--notify-channel must be a lowercase identifier");
  if (!IDENT.test(idColumn)) throw new Error("--id-column must be a lowercase identifier");
  if (!options.tenant && !options.tenantExpr) throw new Error("give --tenant <id> or --tenant-expr <sql>");
  if (options.tenant && !/^[A-Za-z0-9_.-]{1,64}$/.test(options.tenant)) throw new Error("--tenant must be a tenant id");
  const tenant = options.tenantExpr ?? `'${options.tenant}'`;
  const base = options.table.replace(".", "_");
  const fn = `switchboard_notify_${base}_${options.event.replace(/[^A-Za-z0-9_]/g, "_").toLowerCase()}`.slice(0, 63);
  const trigger = fn.replace("switchboard_notify_", "switchboard_").slice(0, 63);
  // The function lives in the table's schema (the trigger always does), so dropping that
  // schema drops both; unqualified, it landed in the first schema of the search path.
  const schema = options.table.includes(".") ? options.table.split(".")[0] : undefined;
  const qualifiedFn = schema ? `${schema}.${fn}` : fn;
  const head = `'tenant', ${tenant}, 'channel', ${options.channel}, 'event', '${options.event}'`;
  return `-- Switchboard: publish "${options.event}" when rows of ${options.table} are ${on.join("d or ")}ed.
create or replace function ${qualifiedFn}() returns trigger language plpgsql as $switchboard$
declare
  payload text;
begin
  payload := json_build_object(${head}, 'data', row_to_json(NEW))::text;
  -- NOTIFY payloads stop at 8000 bytes: send a reference and let Switchboard read the row.
  if octet_length(payload) > 7900 then
    payload := json_build_object(${head}, 'ref', json_build_object('table', '${options.table}', 'id', NEW.${idColumn}))::text;
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
