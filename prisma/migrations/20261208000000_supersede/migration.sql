-- AlterEnum: a proposal whose open PR a newer proposal's PR for the same params file replaced.
ALTER TYPE "proposal_status" ADD VALUE 'superseded';

-- AlterTable: supersede is a PR option of the repo, on unless turned off.
ALTER TABLE "config_repos" ADD COLUMN     "pr_supersede" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable: the params file a proposal's PR edits, and the proposal whose PR replaced it.
ALTER TABLE "proposals" ADD COLUMN     "pr_config_path" VARCHAR(512),
ADD COLUMN     "superseded_by" UUID;

-- CreateIndex
CREATE INDEX "proposals_superseded_by_idx" ON "proposals"("superseded_by");

-- AddForeignKey
ALTER TABLE "proposals" ADD CONSTRAINT "proposals_superseded_by_fkey" FOREIGN KEY ("superseded_by") REFERENCES "proposals"("id") ON DELETE SET NULL ON UPDATE CASCADE;
