import { runTokensCli } from "../src/cli/tokens";
import { generateKey, TokenCipher } from "../src/tokens/crypto";
import { createLogger } from "../src/logger";
import { TokenResealer } from "../src/tokens/reseal";
import { aad, TokenStore } from "../src/tokens/store";
import { installCompany } from "./support/api";
import { LogCapture, startHarness, type Harness } from "./support/harness";
import { AGENCY } from "./support/sandbox-fixtures";

/**
 * Rotating TOKEN_ENCRYPTION_KEY without losing a token: the new key goes first, every stored
 * token is re-encrypted under it, and only then may the old key leave.
 */
const OLD = `old:${generateKey()}`;
const NEW = `new:${generateKey()}`;
const rotated = TokenCipher.fromConfig(`${NEW},${OLD}`);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [AGENCY] }, env: { TOKEN_ENCRYPTION_KEY: OLD } });
  await installCompany(h, "agency-1"); // the agency's tokens and each location's, under "old"
});
afterAll(() => h.close());

const keyUse = () => new TokenResealer(h.db, rotated).keyUse();
const tokensOf = (ring: string, locationId: string) =>
  new TokenStore(h.db, TokenCipher.fromConfig(ring)).locationTokens(locationId);

/** `npm run tokens -- …` against the test database, in this process. */
async function cli(ring: string, ...args: string[]) {
  const out = new LogCapture();
  const err = new LogCapture();
  const saved = { url: process.env.DATABASE_URL, key: process.env.TOKEN_ENCRYPTION_KEY };
  process.env.DATABASE_URL = h.databaseUrl;
  process.env.TOKEN_ENCRYPTION_KEY = ring;
  try {
    const code = await runTokensCli(args, out, err);
    return { code, stdout: out.text, stderr: err.text };
  } finally {
    for (const [name, value] of [
      ["DATABASE_URL", saved.url],
      ["TOKEN_ENCRYPTION_KEY", saved.key],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe("rotating the token encryption key", () => {
  it("re-encrypts every stored token under the new key, so the old one can leave", async () => {
    const before = await tokensOf(OLD, "loc-a");
    expect(before?.accessToken).toBeTruthy();
    const uses = await keyUse();
    expect(uses.map((u) => u.keyId)).toEqual(["old"]);
    const tokens = uses[0]!.tokens;
    expect(tokens).toBeGreaterThanOrEqual(4); // the agency's and at least one location's, access and refresh

    const listed = await cli(`${NEW},${OLD}`, "keys");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^old\s+\d+\s+decrypts only$/m);
    expect(listed.stdout).toContain("run `npm run tokens -- reseal` before removing any");

    const resealed = await cli(`${NEW},${OLD}`, "reseal");
    expect(resealed.code).toBe(0);
    expect(resealed.stdout).toContain(`Re-encrypted ${tokens} token(s) under key "new".`);
    expect(resealed.stdout).toContain('Every token is under key "new": no other key is needed.');
    expect(await keyUse()).toEqual([{ keyId: "new", tokens }]);

    // With the old key gone from TOKEN_ENCRYPTION_KEY, the same tokens still read.
    expect(await tokensOf(NEW, "loc-a")).toEqual(before);
  });

  it("never undoes a renewal that lands while it runs", async () => {
    const old = TokenCipher.fromConfig(OLD);
    const seal = (cipher: TokenCipher, token: string) => cipher.encrypt(token, aad("location", "loc-a", "access"));
    await h.db.location.update({ where: { id: "loc-a" }, data: { accessTokenEnc: seal(old, "before-renewal") } });

    const done = await new TokenResealer(h.db, rotated).reseal({
      // The app renews loc-a's token after the batch was read, before it is written.
      beforeWrite: () =>
        h.db.location
          .update({ where: { id: "loc-a" }, data: { accessTokenEnc: seal(rotated, "renewed") } })
          .then(() => undefined),
    });
    expect(done).toMatchObject({ resealed: 0, changedMeanwhile: 1, unreadable: [] });
    expect((await tokensOf(NEW, "loc-a"))?.accessToken).toBe("renewed");
  });

  it("names a token no key given can read, leaves it alone and exits 1", async () => {
    const lost = TokenCipher.fromConfig(`gone:${generateKey()}`);
    await h.db.location.update({
      where: { id: "loc-a" },
      data: { refreshTokenEnc: lost.encrypt("r", aad("location", "loc-a", "refresh")) },
    });
    const sealed = (await h.db.location.findUniqueOrThrow({ where: { id: "loc-a" } })).refreshTokenEnc;

    const res = await cli(`${NEW},${OLD}`, "reseal");
    expect(res.code).toBe(1);
    expect(res.stdout).toContain("Not readable, left as it was: location loc-a refresh token:");
    expect(res.stdout).toMatch(/^gone\s+1\s+NOT in TOKEN_ENCRYPTION_KEY$/m);
    expect(res.stdout).toContain('Key(s) "gone" are not in TOKEN_ENCRYPTION_KEY: those tokens cannot be read.');
    expect(res.stdout).not.toMatch(/"r"/);
    expect((await h.db.location.findUniqueOrThrow({ where: { id: "loc-a" } })).refreshTokenEnc).toBe(sealed);
  });

  it("at start, the log says which stored tokens no key given can read, and which an older key holds", async () => {
    // loc-a's refresh token is under "gone" (the test above); put its access token back under "old".
    const old = TokenCipher.fromConfig(OLD);
    await h.db.location.update({
      where: { id: "loc-a" },
      data: { accessTokenEnc: old.encrypt("a", aad("location", "loc-a", "access")) },
    });
    const logs = new LogCapture();
    await new TokenResealer(h.db, rotated).report(createLogger("info", logs));
    expect(
      logs.withMessage(
        "stored tokens are under keys TOKEN_ENCRYPTION_KEY does not hold: they cannot be read until those keys are put back",
      ),
    ).toEqual([expect.objectContaining({ level: 50, keys: { gone: 1 } })]);
    expect(
      logs.withMessage("stored tokens under older keys: `npm run tokens -- reseal` moves them to the first"),
    ).toEqual([expect.objectContaining({ keys: { old: 1 } })]);
  });

  it("refuses to run without TOKEN_ENCRYPTION_KEY, saying so", async () => {
    const res = await cli("", "keys");
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("TOKEN_ENCRYPTION_KEY is not set");
  });
});
