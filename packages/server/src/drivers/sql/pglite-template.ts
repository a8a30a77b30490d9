import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";

/**
 * New PGlite databases start from a copy of a freshly initialized one, kept on
 * disk as a gzipped tarball (PGlite's own `dumpDataDir` / `loadDataDir`).
 *
 * Why: PGlite makes a new database by running `initdb` in WebAssembly, 2.7-4.3 s
 * of CPU on this project's machine, and loading the same directory from its
 * tarball takes about 1 s. Every `:memory:` database is new (each test server,
 * each benchmark run), and so is the first start on an empty `DATA_DIR`. The
 * tarball is what `initdb` made and nothing else: Switchboard's migrations run
 * on the copy as on a database made by `initdb`.
 *
 * The template is per PGlite version (the data directory's format follows the
 * PostgreSQL build inside it), and always made by `initdb` in memory, never by
 * dumping a data directory: a dump holds every file of its directory, and a
 * `DATA_DIR` also holds this process's lock and the development JWT secret,
 * which a copy would carry into every later new directory (a foreign lock
 * that lets a second process in, another install's secret). A template that
 * cannot be read or loaded is removed and made again; the cache only ever
 * saves time.
 */
export class PgliteTemplate {
  /** The tarball's path; `undefined` when templates are off. */
  readonly file: string | undefined;

  /** `cacheDir` holds the tarball; `undefined` turns templates off. */
  constructor(cacheDir: string | undefined) {
    // "v2": templates of the first format (`-initdb.tar.gz`) could be dumps of a data directory, with its lock and secret.
    this.file = cacheDir === undefined ? undefined : join(cacheDir, `pglite-${pgliteVersion()}-initdb.v2.tar.gz`);
  }

  /**
   * Opens a database in `dataDir` (or in memory, `undefined`). One that holds
   * no database yet is loaded from the template, which is made first (by
   * `initdb` in memory) when there is none or the one there cannot be loaded.
   * An existing database opens as PGlite opens it.
   */
  async create(dataDir: string | undefined): Promise<PGlite> {
    const isNew = dataDir === undefined || !existsSync(join(dataDir, "PG_VERSION"));
    if (!isNew || this.file === undefined) return PGlite.create(dataDir);
    // What the directory held before (the lock file, a development secret): kept if a load fails.
    const before = dataDir === undefined ? [] : await readdir(dataDir);
    for (const source of [() => this.read(), () => this.build()]) {
      const template = await source();
      if (!template) continue;
      try {
        return await PGlite.create({ dataDir, loadDataDir: template });
      } catch {
        // A tarball from a broken write or another build: removed, with what its load wrote.
        await rm(this.file, { force: true });
        if (dataDir !== undefined) await removeAddedEntries(dataDir, before);
      }
    }
    return PGlite.create(dataDir);
  }

  /** A new template: `initdb` in memory, so the tarball holds PostgreSQL's files and nothing else. Saved when it can be. */
  private async build(): Promise<Blob | undefined> {
    let db: PGlite | undefined;
    try {
      db = await PGlite.create();
      const tarball = await db.dumpDataDir("gzip");
      // Not cached (a read-only home, a full disk): the next new database runs initdb again.
      await this.save(tarball).catch(() => {});
      // The first format's template, if any, may hold another directory's secret: not left lying in the cache.
      await rm(this.file!.replace(/\.v2\.tar\.gz$/, ".tar.gz"), { force: true }).catch(() => {});
      return tarball;
    } catch {
      return undefined;
    } finally {
      await db?.close();
    }
  }

  private async read(): Promise<Blob | undefined> {
    try {
      return new Blob([await readFile(this.file!)]);
    } catch {
      return undefined;
    }
  }

  /** Written under a unique name and renamed: a reader sees a whole tarball or none, whoever writes at once. */
  private async save(tarball: Blob): Promise<void> {
    const file = this.file!;
    await mkdir(join(file, ".."), { recursive: true });
    const partial = `${file}.${process.pid}.${randomUUID()}.partial`;
    try {
      await writeFile(partial, new Uint8Array(await tarball.arrayBuffer()));
      await rename(partial, file);
    } finally {
      await rm(partial, { force: true });
    }
  }
}

/**
 * Where templates are kept by default: the user's cache directory
 * (`$XDG_CACHE_HOME/switchboard`, else `~/.cache/switchboard`).
 */
export function defaultTemplateDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "switchboard");
}

/** The installed PGlite's version, read from its package.json next to its entry point. */
function pgliteVersion(): string {
  const entry = fileURLToPath(import.meta.resolve("@electric-sql/pglite"));
  const pkg = JSON.parse(readFileSync(join(entry, "..", "..", "package.json"), "utf8")) as { name?: string; version?: string };
  if (pkg.name !== "@electric-sql/pglite" || !pkg.version) throw new Error("cannot read the installed PGlite's version");
  return pkg.version;
}

/** Removes what a failed load wrote into `dir`: every entry not in `before`. */
async function removeAddedEntries(dir: string, before: string[]): Promise<void> {
  const kept = new Set(before);
  for (const entry of await readdir(dir)) if (!kept.has(entry)) await rm(join(dir, entry), { recursive: true, force: true });
}
