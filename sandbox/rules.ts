// Branch protection and rulesets declining a push. GitHub refuses the ref update in its
// pre-receive stage and explains itself on the sideband, which git prints as `remote:` lines:
// - a ruleset: `error: GH013: Repository rule violations found for refs/heads/…` followed by the
//   rule's message (https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/troubleshooting-rules);
// - a protected branch: `error: GH006: Protected branch update failed for refs/heads/…`
//   (https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/managing-protected-branches/about-protected-branches).
// The sandbox installs a real `pre-receive` hook in the bare repo, so `git receive-pack` answers
// `ng <ref> pre-receive hook declined` in its report-status exactly as a declining hook does;
// GitHub's report-status reason differs in wording ("push declined due to repository rule
// violations", "protected branch hook declined"), which is why the product reads the sideband.
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PushRule } from './types.js';

const hookScript = (webUrl: string): string => `#!/bin/sh
# relyloop-pr sandbox: declines ref updates the way GitHub's rulesets and branch protection do.
status=0
while read -r old new ref; do
  branch=\${ref#refs/heads/}
  while IFS='	' read -r kind pattern message; do
    case "$branch" in
      $pattern)
        enc=$(printf '%s' "$ref" | sed 's,/,%2F,g')
        if [ "$kind" = ruleset ]; then
          echo "error: GH013: Repository rule violations found for $ref." >&2
          echo "Review all repository rules at ${webUrl}/rules?ref=$enc" >&2
          echo "" >&2
          echo "- $message" >&2
          echo "" >&2
        else
          echo "error: GH006: Protected branch update failed for $ref." >&2
          echo "error: $message" >&2
        fi
        status=1
        ;;
    esac
  done < ./sandbox-push-rules
done
exit $status
`;

const DEFAULT_MESSAGE: Record<PushRule['kind'], string> = {
  ruleset: 'Cannot create ref due to creations being restricted.',
  protected_branch: 'Changes must be made through a pull request.',
};

/** Installs (or replaces) the hook and its rules; an empty list lets every push through. */
export async function writePushRules(bareDir: string, webUrl: string, rules: readonly PushRule[]): Promise<void> {
  const lines = rules.map((r) => {
    if (/[\t\n]/.test(r.pattern) || /[\t\n]/.test(r.message ?? ''))
      throw new Error('push rule pattern and message must be one line without tabs');
    return `${r.kind}\t${r.pattern}\t${r.message ?? DEFAULT_MESSAGE[r.kind]}\n`;
  });
  await writeFile(path.join(bareDir, 'sandbox-push-rules'), lines.join(''));
  const hook = path.join(bareDir, 'hooks', 'pre-receive');
  await writeFile(hook, hookScript(webUrl));
  await chmod(hook, 0o755);
}
