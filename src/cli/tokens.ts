import { parseArgs } from "node:util";
import { readDotenv } from "../config";
import { TokenCipher } from "../tokens/crypto";
import { TokenResealer, type KeyUse } from "../tokens/reseal";
import { withCliDatabase } from "./database";
import { table } from "./table";
import { exitCode, UsageError } from "./usage";

const USAGE = `Usage:
  npm run tokens -- keys     how many stored tokens each encryption key holds
  npm run tokens -- reseal   re-encrypt every token under the first key of TOKEN_ENCRYPTION_KEY

Rotating TOKEN_ENCRYPTION_KEY: put the new key first (new:<key>,old:<key>) and restart every
process; run \`reseal\` (safe while the app runs); remove the old key once \`keys\` shows it holds
no token. A token whose key has left TOKEN_ENCRYPTION_KEY cannot be read again.
`;

function cipherFromEnv(): TokenCipher {
  const value = readDotenv().TOKEN_ENCRYPTION_KEY;
  if (!value) throw new UsageError("TOKEN_ENCRYPTION_KEY is not set (in the environment or .env).");
  return TokenCipher.fromConfig(value);
}

/** What `keys` prints under the table: whether an old key may leave TOKEN_ENCRYPTION_KEY yet. */
function verdict(uses: KeyUse[], cipher: TokenCipher): string {
  const others = uses.filter((u) => u.keyId !== cipher.primaryId);
  if (uses.length === 0) return "No token is stored yet.\n";
  if (others.length === 0) return `Every token is under key "${cipher.primaryId}": no other key is needed.\n`;
  const count = others.reduce((n, u) => n + u.tokens, 0);
  const missing = others.filter((u) => !cipher.holds(u.keyId)).map((u) => `"${u.keyId}"`);
  return (
    `${count} token(s) are under other keys than "${cipher.primaryId}": run \`npm run tokens -- reseal\` before removing any.\n` +
    (missing.length
      ? `Key(s) ${missing.join(", ")} are not in TOKEN_ENCRYPTION_KEY: those tokens cannot be read.\n`
      : "")
  );
}

/** `npm run tokens`: which keys hold the stored tokens, and re-encrypting them under the first. */
export async function tokensCli(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" } },
  });
  const [command] = positionals;
  if (values.help || command === "help") {
    out.write(USAGE);
    return true;
  }
  if (command !== "keys" && command !== "reseal") {
    throw new UsageError(command ? `Unknown command "${command}".` : "Say what to do.");
  }
  const cipher = cipherFromEnv();
  return withCliDatabase(async (db) => {
    const resealer = new TokenResealer(db, cipher);
    if (command === "reseal") {
      const done = await resealer.reseal();
      out.write(
        `Re-encrypted ${done.resealed} token(s) under key "${cipher.primaryId}"` +
          (done.changedMeanwhile ? `; ${done.changedMeanwhile} renewed by the app meanwhile, already under it` : "") +
          ".\n",
      );
      for (const u of done.unreadable)
        out.write(`Not readable, left as it was: ${u.owner} ${u.id} ${u.field} token: ${u.reason}\n`);
      out.write("\n");
    }
    const uses = await resealer.keyUse();
    if (uses.length) {
      const role = (keyId: string) =>
        keyId === cipher.primaryId
          ? "first: encrypts"
          : cipher.holds(keyId)
            ? "decrypts only"
            : "NOT in TOKEN_ENCRYPTION_KEY";
      out.write(
        table(
          ["KEY", "TOKENS", "IN TOKEN_ENCRYPTION_KEY"],
          uses.map((u) => [u.keyId, String(u.tokens), role(u.keyId)]),
        ),
      );
    }
    out.write(verdict(uses, cipher));
    return uses.every((u) => cipher.holds(u.keyId));
  });
}

/** Exit code as the shell sees it: 0, 1 when a stored token cannot be read with the keys given, 2 for a usage mistake. */
export async function runTokensCli(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  return exitCode(async () => ((await tokensCli(argv, out)) ? 0 : 1), USAGE, err);
}

if (require.main === module) {
  void runTokensCli(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
