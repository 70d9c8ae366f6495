-- CreateTable
CREATE TABLE "metric_buckets" (
    "series" TEXT NOT NULL,
    "label" TEXT NOT NULL DEFAULT '',
    "bucket_start" TIMESTAMPTZ(0) NOT NULL,
    "total" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "samples" INTEGER NOT NULL DEFAULT 0,
    "max" DOUBLE PRECISION,

    CONSTRAINT "metric_buckets_pkey" PRIMARY KEY ("series","label","bucket_start")
);

-- CreateTable
CREATE TABLE "metric_samplers" (
    "name" TEXT NOT NULL,
    "sampled_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "metric_samplers_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "metric_buckets_bucket_start_idx" ON "metric_buckets"("bucket_start");
