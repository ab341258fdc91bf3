-- CreateTable
CREATE TABLE "github_pacing" (
    "token_hash" VARCHAR(64) NOT NULL,
    "next_write_at" TIMESTAMPTZ(6) NOT NULL,
    "content_tat" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "github_pacing_pkey" PRIMARY KEY ("token_hash")
);
