import { parseArgs } from "node:util";
import { ApiKeyService, type KeyScope } from "../auth/api-keys";
import { AuditLog } from "../audit/log";
import type { Db } from "../db/client";
import { createLogger } from "../logger";
import { withCliDatabase } from "./database";
import { minuteUtc, table } from "./table";
import { exitCode, UsageError } from "./usage";

/** Keys made or revoked here are audited like any other change; a lost record is reported on stderr. */
const keysIn = (db: Db) => new ApiKeyService(db, [], new AuditLog(db, createLogger("warn", process.stderr)));

const USAGE = `Usage:
  npm run api-key -- create --name <name> (--all | --company <companyId> | --location <locationId>)
  npm run api-key -- list
  npm run api-key -- revoke <key id or the key itself>

A key is printed once, when it is created; only its SHA-256 digest is stored.
\`list\` shows when each key was created and last used (to within a few minutes).
`;

function scopeFrom(values: { all?: boolean; company?: string; location?: string }): KeyScope {
  const given = [values.all && "all", values.company && "company", values.location && "location"].filter(Boolean);
  if (given.length !== 1) throw new UsageError("Give exactly one scope: --all, --company <id> or --location <id>.");
  if (values.company) return { scope: "company", companyId: values.company };
  if (values.location) return { scope: "location", locationId: values.location };
  return { scope: "all" };
}

type ListedKey = Awaited<ReturnType<ApiKeyService["list"]>>[number];

function keyRow(k: ListedKey): string[] {
  const scope =
    k.scope === "all" ? "all" : k.scope === "company" ? `company ${k.companyId}` : `location ${k.locationId}`;
  const state = k.revokedAt ? `revoked ${minuteUtc(k.revokedAt)}` : "active";
  return [k.id, `${k.prefix}…`, k.name, scope, minuteUtc(k.createdAt), minuteUtc(k.lastUsedAt), state];
}

/** True when the location is installed and connected (or connecting) in this app's database. */
async function locationInstalled(db: Db, locationId: string): Promise<boolean> {
  const row = await db.location.findUnique({ where: { id: locationId }, select: { status: true } });
  return row !== null && (row.status === "active" || row.status === "connecting");
}

/** `npm run api-key`: create, list and revoke the API keys stored in the database. */
export async function apiKeyCli(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      all: { type: "boolean" },
      company: { type: "string" },
      location: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, target] = positionals;
  if (values.help || command === "help") {
    out.write(USAGE);
    return;
  }
  if (command === "create") {
    const name = values.name?.trim();
    if (!name) throw new UsageError("--name is required: say who or what will use the key.");
    const scope = scopeFrom(values);
    const { created, installed } = await withCliDatabase(async (db) => ({
      created: await keysIn(db).create(name, scope),
      installed: scope.scope === "location" ? await locationInstalled(db, scope.locationId) : true,
    }));
    const where =
      scope.scope === "all"
        ? "all locations"
        : scope.scope === "company"
          ? `company ${scope.companyId}`
          : `location ${scope.locationId}`;
    out.write(
      `Created API key "${created.name}" (id ${created.id}) for ${where}.\n\n  ${created.key}\n\nIt is shown only now: store it in your secret manager. Use it as "Authorization: Bearer <key>".\n`,
    );
    // Still created: the key may well be made before the install. But a typo would go unnoticed.
    if (!installed)
      out.write(
        `\nWarning: location ${values.location} is not installed here (yet). The key works once it is; check the id if it should be already.\n`,
      );
  } else if (command === "list") {
    const keys = await withCliDatabase((db) => keysIn(db).list());
    if (keys.length === 0)
      out.write("No API keys yet. Create one with: npm run api-key -- create --name <name> --all\n");
    else out.write(table(["ID", "PREFIX", "NAME", "SCOPE", "CREATED", "LAST USED", "STATE"], keys.map(keyRow)));
  } else if (command === "revoke") {
    if (!target) throw new UsageError("Say which key to revoke: its id (from `list`) or the key itself.");
    const revoked = await withCliDatabase((db) => keysIn(db).revoke(target));
    if (!revoked) throw new UsageError(`No active API key matches ${target.slice(0, 12)}…`);
    out.write("Revoked. Requests with that key now answer 401.\n");
  } else {
    throw new UsageError(command ? `Unknown command "${command}".` : "Say what to do.");
  }
}

/**
 * Runs the command as the shell would: returns the exit code (0, 1 for a failure, 2 for a usage
 * mistake) and writes the reason to `err`. Tests call this in the test's own process.
 */
export async function runApiKeyCli(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  return exitCode(() => apiKeyCli(argv, out).then(() => 0), USAGE, err);
}

if (require.main === module) {
  void runApiKeyCli(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
