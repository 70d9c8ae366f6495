-- A custom-page SSO payload opens one session at most: the digests of those already used.

-- CreateTable
CREATE TABLE "used_sso_payloads" (
    "digest" TEXT NOT NULL,
    "used_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "used_sso_payloads_pkey" PRIMARY KEY ("digest")
);

-- CreateIndex
CREATE INDEX "used_sso_payloads_used_at_idx" ON "used_sso_payloads"("used_at");
