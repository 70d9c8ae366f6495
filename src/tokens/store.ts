import type { Db } from "../db/client";
import type { TokenResponse } from "../highlevel/oauth";
import type { TokenCipher } from "./crypto";

/** What the token store hands out: decrypted, for one request's use, never logged. */
export interface StoredTokens {
  accessToken: string | null;
  refreshToken: string | null;
  expiresAt: Date | null;
}

type Owner = "company" | "location";

/** Associated data for AES-GCM: a ciphertext only decrypts in the row and column it was written for. */
const aad = (owner: Owner, id: string, field: "access" | "refresh") => `${owner}:${id}:${field}`;

export function expiryFrom(response: Pick<TokenResponse, "expires_in">, now = Date.now()): Date {
  return new Date(now + response.expires_in * 1000);
}

/**
 * Encrypts tokens on their way into Prisma and decrypts them on the way out; no other
 * module sees the `*Enc` columns.
 */
export class TokenStore {
  constructor(
    private readonly db: Db,
    private readonly cipher: TokenCipher,
  ) {}

  encryptedFields(owner: Owner, id: string, response: TokenResponse) {
    return {
      accessTokenEnc: this.cipher.encrypt(response.access_token, aad(owner, id, "access")),
      refreshTokenEnc: response.refresh_token
        ? this.cipher.encrypt(response.refresh_token, aad(owner, id, "refresh"))
        : null,
      tokenExpiresAt: expiryFrom(response),
      scopes: response.scope ?? "",
    };
  }

  private decrypt(owner: Owner, id: string, row: { accessTokenEnc: string | null; refreshTokenEnc: string | null; tokenExpiresAt: Date | null }): StoredTokens {
    return {
      accessToken: row.accessTokenEnc ? this.cipher.decrypt(row.accessTokenEnc, aad(owner, id, "access")) : null,
      refreshToken: row.refreshTokenEnc ? this.cipher.decrypt(row.refreshTokenEnc, aad(owner, id, "refresh")) : null,
      expiresAt: row.tokenExpiresAt,
    };
  }

  async companyTokens(companyId: string): Promise<StoredTokens | null> {
    const row = await this.db.company.findUnique({ where: { id: companyId } });
    return row ? this.decrypt("company", companyId, row) : null;
  }

  async locationTokens(locationId: string): Promise<StoredTokens | null> {
    const row = await this.db.location.findUnique({ where: { id: locationId } });
    return row ? this.decrypt("location", locationId, row) : null;
  }
}
