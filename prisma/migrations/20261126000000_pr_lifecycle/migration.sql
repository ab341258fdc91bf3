-- AlterTable
ALTER TABLE "proposals" ADD COLUMN     "pr_state_at" TIMESTAMPTZ(6);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "delivery_id" VARCHAR(64) NOT NULL,
    "event" VARCHAR(64) NOT NULL,
    "action" VARCHAR(64),
    "config_repo_id" UUID,
    "proposal_id" UUID,
    "outcome" VARCHAR(32) NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("delivery_id")
);

-- CreateIndex
CREATE INDEX "proposals_pr_state_idx" ON "proposals"("pr_state");

-- CreateIndex
CREATE INDEX "webhook_deliveries_received_at_idx" ON "webhook_deliveries"("received_at");
