import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { describe, expect, it } from "vitest";
import { PgliteDatabase } from "../src/drivers/sql/pglite-database.js";
import { PgliteTemplate } from "../src/drivers/sql/pglite-template.js";
import { LOCK_FILE } from "../src/drivers/sql/data-dir-lock.js";
import { openDatabase } from "../src/drivers/sql/open-database.js";
import { onCleanup, testDb } from "./support/server-harness.js";

const scratch = () => mkdtemp(join(tmpdir(), "sb-template-"));

/** Opens `db` and registers its close. */
async function opened(db: Promise<PgliteDatabase>): Promise<PgliteDatabase> {
  const database = await db;
  onCleanup(() => database.close());
  return database;
}

/** Replaces the template with one whose database also holds a table `marker`: a database made from it shows it was. */
async function markTemplate(template: PgliteTemplate): Promise<void> {
  const db = await PGlite.create({ loadDataDir: new Blob([await readFile(template.file!)]) });
  await db.exec("create table marker (id int)");
  const tarball = await db.dumpDataDir("gzip");
  await db.close();
  await writeFile(template.file!, new Uint8Array(await tarball.arrayBuffer()));
}

const tables = async (db: PgliteDatabase) =>
  (await db.query<{ tablename: string }>("select tablename from pg_tables where schemaname = 'public' order by tablename")).rows.map((r) => r.tablename);

// The embedded store only: the Postgres project runs the same suites on a real Postgres, which has no template.
describe.skipIf(testDb === "postgres")("PGlite databases made from a template", () => {
  it("the first new database writes the template, and later new databases start from it", async () => {
    const template = new PgliteTemplate(await scratch());
    const first = await opened(PgliteDatabase.open(":memory:", template));
    expect((await first.query<{ one: number }>("select 1 as one")).rows).toEqual([{ one: 1 }]);
    expect((await stat(template.file!)).size).toBeGreaterThan(100_000);
    expect(await tables(first)).toEqual([]);

    await markTemplate(template);
    const inMemory = await opened(PgliteDatabase.open(":memory:", template));
    expect(await tables(inMemory)).toEqual(["marker"]);
    const dataDir = await scratch();
    const inDirectory = await opened(PgliteDatabase.open(dataDir, template));
    expect(await tables(inDirectory)).toEqual(["marker"]);
    await inDirectory.exec("insert into marker values (1)");
  });

  it("a template never holds a data directory's own files: a new DATA_DIR's lock and development secret stay its own", async () => {
    const template = new PgliteTemplate(await scratch());
    const first = await scratch();
    await writeFile(join(first, "dev-jwt-secret"), "the first install's secret\n");
    // No template yet: opening a new directory makes one.
    await opened(PgliteDatabase.open(first, template));
    const entries = gunzipSync(await readFile(template.file!)).toString("latin1");
    expect(entries).toContain("PG_VERSION");
    expect(entries).not.toContain("dev-jwt-secret");
    expect(entries).not.toContain(LOCK_FILE);

    const second = await scratch();
    await opened(PgliteDatabase.open(second, template));
    expect(await readdir(second)).not.toContain("dev-jwt-secret");
    expect(await readdir(second)).toContain(LOCK_FILE);
  });

  it("an existing data directory opens as it is, not from the template", async () => {
    const template = new PgliteTemplate(await scratch());
    const dataDir = await scratch();
    const db = await PgliteDatabase.open(dataDir, template);
    await db.exec("create table mine (id int); insert into mine values (7)");
    await db.close();
    await markTemplate(template);

    const again = await opened(PgliteDatabase.open(dataDir, template));
    expect(await tables(again)).toEqual(["mine"]);
    expect((await again.query<{ id: number }>("select id from mine")).rows).toEqual([{ id: 7 }]);
    // Nor does the existing database become the template.
    expect(await tables(await opened(PgliteDatabase.open(":memory:", template)))).toEqual(["marker"]);
  });

  it("a template that cannot be loaded is replaced, and the directory keeps what it held before", async () => {
    const template = new PgliteTemplate(await scratch());
    await opened(PgliteDatabase.open(":memory:", template));
    await writeFile(template.file!, "not a tarball");
    const dataDir = await scratch();
    await writeFile(join(dataDir, "keep.txt"), "mine");

    const db = await opened(PgliteDatabase.open(dataDir, template));
    expect(await tables(db)).toEqual([]);
    expect(await readFile(join(dataDir, "keep.txt"), "utf8")).toBe("mine");
    expect((await stat(template.file!)).size).toBeGreaterThan(100_000);
    await markTemplate(template); // the replacement loads
  });

  it("PGLITE_TEMPLATE_DIR=off keeps no template; unset, it is kept in the user's cache directory", async () => {
    const cache = await scratch();
    const previous = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    onCleanup(async () => {
      if (previous === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = previous;
    });
    const settings = { schema: "public", poolSize: 1, queryTimeoutMs: 0, dataDir: ":memory:" };
    const off = await openDatabase({ ...settings, templateDir: "off" });
    onCleanup(() => off.close());
    expect(await readdir(cache)).toEqual([]);

    const cached = await openDatabase(settings);
    onCleanup(() => cached.close());
    expect((await readdir(join(cache, "switchboard"))).filter((f) => f.endsWith(".tar.gz"))).toHaveLength(1);
  });
});
