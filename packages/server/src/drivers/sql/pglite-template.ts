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
 * PostgreSQL build inside it). A template that cannot be read or loaded is
 * removed and the database made by `initdb`, which also writes a new template:
 * the cache only ever saves time.
 */
export class PgliteTemplate {
  /** The tarball's path; `undefined` when templates are off. */
  readonly file: string | undefined;

  /** `cacheDir` holds the tarball; `undefined` turns templates off. */
  constructor(cacheDir: string | undefined) {
    this.file = cacheDir === undefined ? undefined : join(cacheDir, `pglite-${pgliteVersion()}-initdb.tar.gz`);
  }

  /**
   * Opens a database in `dataDir` (or in memory, `undefined`): from the
   * template when the directory holds no database yet and a template exists;
   * otherwise as PGlite does, and then, if it was new, saves it as the
   * template before anything else is written to it.
   */
  async create(dataDir: string | undefined): Promise<PGlite> {
    const isNew = dataDir === undefined || !existsSync(join(dataDir, "PG_VERSION"));
    if (!isNew || this.file === undefined) return PGlite.create(dataDir);
    const template = await this.read();
    if (template) {
      // What the directory held before (the lock file, a development secret): kept if the load fails.
      const before = dataDir === undefined ? [] : await readdir(dataDir);
      try {
        return await PGlite.create({ dataDir, loadDataDir: template });
      } catch {
        // A tarball from a broken write or another build: removed, with what its load wrote, and made again below.
        await rm(this.file, { force: true });
        if (dataDir !== undefined) await removeAddedEntries(dataDir, before);
      }
    }
    const db = await PGlite.create(dataDir);
    try {
      await this.save(await db.dumpDataDir("gzip"));
    } catch {
      // Not cached (a read-only home, a full disk): the next new database runs initdb again.
    }
    return db;
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
