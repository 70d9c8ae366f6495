-- Failed authentications per client address, counted where every process sees them.

-- CreateTable
CREATE TABLE "auth_failures" (
    "address" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "window_ends_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "auth_failures_pkey" PRIMARY KEY ("address")
);

-- CreateIndex
CREATE INDEX "auth_failures_window_ends_at_idx" ON "auth_failures"("window_ends_at");
