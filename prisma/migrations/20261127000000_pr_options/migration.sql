-- AlterTable
ALTER TABLE "config_repos" ADD COLUMN     "pr_assignees" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "pr_draft" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "pr_labels" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "pr_reviewers" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "pr_team_reviewers" TEXT[] DEFAULT ARRAY[]::TEXT[];
