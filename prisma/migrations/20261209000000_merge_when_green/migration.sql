-- AlterTable: merge a repo's PRs when their checks pass (off while pr_merge_when is null).
ALTER TABLE "config_repos" ADD COLUMN     "pr_merge_when" VARCHAR(32),
ADD COLUMN     "pr_merge_method" VARCHAR(16) NOT NULL DEFAULT 'merge';
ALTER TABLE "config_repos" ADD CONSTRAINT "config_repos_pr_merge_when_check" CHECK ("pr_merge_when" IN ('checks_pass'));
ALTER TABLE "config_repos" ADD CONSTRAINT "config_repos_pr_merge_method_check" CHECK ("pr_merge_method" IN ('merge', 'squash', 'rebase'));

-- AlterTable: where merging a proposal's PR stands, and why it ended as it did.
ALTER TABLE "proposals" ADD COLUMN     "merge_state" VARCHAR(32),
ADD COLUMN     "merge_note" VARCHAR(1000);
