import type { Db } from "../db/client";
import type { InstallStatus, Prisma } from "../generated/prisma/client";
import type { TokenResponse } from "../highlevel/oauth";
import type { TokenCipher } from "./crypto";

/** What the token store hands out: decrypted, for one request's use, never logged. */
export interface StoredTokens {
  accessToken: string | null;
  refreshToken: string | null;
  expiresAt: Date | null;
}

export type Owner = "company" | "location";

/** The columns the token service reads, common to companies and locations. */
export interface TokenRow {
  status: InstallStatus;
  accessTokenEnc: string | null;
  refreshTokenEnc: string | null;
  tokenExpiresAt: Date | null;
  lastError: string | null;
  updatedAt: Date;
}

type Tx = Prisma.TransactionClient;

/** Associated data for AES-GCM: a ciphertext only decrypts in the row and column it was written for. */
export const aad = (owner: Owner, id: string, field: "access" | "refresh") => `${owner}:${id}:${field}`;

/** The background refresher renews a token this long before it expires (src/tokens/refresher.ts). */
export const REFRESH_AHEAD_MS = 60 * 60_000;

export function expiryFrom(response: Pick<TokenResponse, "expires_in">, now = Date.now()): Date {
  return new Date(now + response.expires_in * 1000);
}

/**
 * Encrypts tokens on their way into Prisma and decrypts them on the way out; no other
 * module sees the `*Enc` columns, but for key rotation (`reseal.ts`), which re-encrypts them whole.
 */
export class TokenStore {
  constructor(
    private readonly db: Db,
    private readonly cipher: TokenCipher,
  ) {}

  /** The columns of a fresh token: also its next background renewal, and no failures behind it. */
  encryptedFields(owner: Owner, id: string, response: TokenResponse) {
    const tokenExpiresAt = expiryFrom(response);
    return {
      accessTokenEnc: this.cipher.encrypt(response.access_token, aad(owner, id, "access")),
      refreshTokenEnc: response.refresh_token
        ? this.cipher.encrypt(response.refresh_token, aad(owner, id, "refresh"))
        : null,
      tokenExpiresAt,
      scopes: response.scope ?? "",
      nextRefreshAt: new Date(tokenExpiresAt.getTime() - REFRESH_AHEAD_MS),
      refreshFailures: 0,
      refreshFailingSince: null,
      refreshGivenUpAt: null,
    };
  }

  accessTokenOf(owner: Owner, id: string, row: Pick<TokenRow, "accessTokenEnc">): string | null {
    return row.accessTokenEnc ? this.cipher.decrypt(row.accessTokenEnc, aad(owner, id, "access")) : null;
  }

  refreshTokenOf(owner: Owner, id: string, row: Pick<TokenRow, "refreshTokenEnc">): string | null {
    return row.refreshTokenEnc ? this.cipher.decrypt(row.refreshTokenEnc, aad(owner, id, "refresh")) : null;
  }

  async row(owner: Owner, id: string, tx: Tx = this.db): Promise<TokenRow | null> {
    return owner === "company" ? tx.company.findUnique({ where: { id } }) : tx.location.findUnique({ where: { id } });
  }

  /**
   * Takes the row lock that serialises renewals across processes, then reads the row as it is
   * now (another process may have renewed while we waited).
   */
  async lockRow(tx: Tx, owner: Owner, id: string): Promise<TokenRow | null> {
    if (owner === "company") await tx.$executeRaw`SELECT 1 FROM companies WHERE id = ${id} FOR UPDATE`;
    else await tx.$executeRaw`SELECT 1 FROM locations WHERE id = ${id} FOR UPDATE`;
    return this.row(owner, id, tx);
  }

  async saveRenewed(tx: Tx, owner: Owner, id: string, response: TokenResponse): Promise<void> {
    const data = {
      ...this.encryptedFields(owner, id, response),
      // A response without a refresh token (minted location tokens) keeps none: renewal mints again.
      status: "active" as const,
      lastError: null,
      lastRefreshedAt: new Date(),
    };
    if (owner === "company") await tx.company.update({ where: { id }, data });
    else await tx.location.update({ where: { id }, data });
  }

  /**
   * Stores renewed tokens outside the renewal's transaction, only if the row still holds the
   * tokens the renewal started from (and is not uninstalled): for tokens HighLevel issued after
   * that transaction was closed (it outlived its time limit, or its commit failed). A row changed
   * meanwhile (a reinstall, an uninstall) keeps what it has. True when stored.
   */
  async saveRenewedIfUnchanged(
    owner: Owner,
    id: string,
    response: TokenResponse,
    seen: Pick<TokenRow, "accessTokenEnc" | "refreshTokenEnc">,
  ): Promise<boolean> {
    const where = {
      id,
      status: { not: "uninstalled" as const },
      accessTokenEnc: seen.accessTokenEnc,
      refreshTokenEnc: seen.refreshTokenEnc,
    };
    const data = {
      ...this.encryptedFields(owner, id, response),
      status: "active" as const,
      lastError: null,
      lastRefreshedAt: new Date(),
    };
    const { count } =
      owner === "company"
        ? await this.db.company.updateMany({ where, data })
        : await this.db.location.updateMany({ where, data });
    return count === 1;
  }

  async markStatus(tx: Tx, owner: Owner, id: string, status: InstallStatus, lastError: string): Promise<void> {
    const data = { status, lastError };
    if (owner === "company") await tx.company.update({ where: { id }, data });
    else await tx.location.update({ where: { id }, data });
  }

  async companyTokens(companyId: string): Promise<StoredTokens | null> {
    const row = await this.row("company", companyId);
    return row ? this.decrypted("company", companyId, row) : null;
  }

  async locationTokens(locationId: string): Promise<StoredTokens | null> {
    const row = await this.row("location", locationId);
    return row ? this.decrypted("location", locationId, row) : null;
  }

  private decrypted(owner: Owner, id: string, row: TokenRow): StoredTokens {
    return {
      accessToken: this.accessTokenOf(owner, id, row),
      refreshToken: this.refreshTokenOf(owner, id, row),
      expiresAt: row.tokenExpiresAt,
    };
  }
}
