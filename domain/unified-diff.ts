// A unified diff of two texts, line by line, in the form `git diff` prints (3 lines of context,
// `@@ -a,b +c,d @@` hunks, `\ No newline at end of file`), for the preview of a params change.
// Myers' O((N+M)·D) algorithm: a params change edits a few lines of a small file, so D is small.
// Pure; checked against native `git diff --no-index` in test/unit/unified-diff.unit.test.ts.

const CONTEXT = 3;

/** Past this many differing lines the texts are shown as a whole replacement (nothing to align). */
const MAX_EDIT_DISTANCE = 4_000;

type Op = { kind: ' ' | '-' | '+'; line: string; oldNo: number; newNo: number };

/** Lines of a text, each keeping whether it ended with a newline. */
function linesOf(text: string): { lines: string[]; lastHasNewline: boolean } {
  if (text === '') return { lines: [], lastHasNewline: true };
  const lastHasNewline = text.endsWith('\n');
  const lines = (lastHasNewline ? text.slice(0, -1) : text).split('\n');
  return { lines, lastHasNewline };
}

/** The edit script turning `a` into `b` (Myers, shortest), as kept/removed/added lines. */
function editScript(a: readonly string[], b: readonly string[]): Op[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
      let x = down ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a, b, d, offset);
    }
    v = next;
  }
  return null;
}

/** Walks the trace back from (n, m): each step's snake, then the one edit that led into it. */
function backtrack(trace: Int32Array[], a: readonly string[], b: readonly string[], d: number, offset: number): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let step = d; step >= 0; step--) {
    const k = x - y;
    const prevV = trace[step] as Int32Array;
    const down = k === -step || (k !== step && (prevV[offset + k - 1] ?? 0) < (prevV[offset + k + 1] ?? 0));
    const prevK = down ? k + 1 : k - 1;
    const prevX = step === 0 ? 0 : (prevV[offset + prevK] ?? 0);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ kind: ' ', line: a[x] as string, oldNo: x, newNo: y });
    }
    if (step > 0) {
      if (down) {
        y--;
        ops.push({ kind: '+', line: b[y] as string, oldNo: x, newNo: y });
      } else {
        x--;
        ops.push({ kind: '-', line: a[x] as string, oldNo: x, newNo: y });
      }
    }
  }
  return ops.reverse();
}

/**
 * `git diff`'s unified form of `before` → `after` for `path` (as `a/{path}` and `b/{path}`);
 * the empty string when they are equal.
 */
export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return '';
  const a = linesOf(before);
  const b = linesOf(after);
  // A last line without its newline differs from the same line with one.
  const oldLines = a.lines.map((l, i) => (i === a.lines.length - 1 && !a.lastHasNewline ? `${l}\u0000` : l));
  const newLines = b.lines.map((l, i) => (i === b.lines.length - 1 && !b.lastHasNewline ? `${l}\u0000` : l));
  const ops = editScript(oldLines, newLines) ?? [
    ...oldLines.map((line, i): Op => ({ kind: '-', line, oldNo: i, newNo: 0 })),
    ...newLines.map((line, i): Op => ({ kind: '+', line, oldNo: oldLines.length, newNo: i })),
  ];
  const out = [`--- a/${path}`, `+++ b/${path}`];
  let i = 0;
  while (i < ops.length) {
    if ((ops[i] as Op).kind === ' ') {
      i++;
      continue;
    }
    // A hunk: from CONTEXT lines before this change to CONTEXT after the last change within reach.
    let start = i;
    while (start > 0 && i - start < CONTEXT && (ops[start - 1] as Op).kind === ' ') start--;
    let end = i;
    for (let j = i; j < ops.length; j++) {
      if ((ops[j] as Op).kind !== ' ') end = j;
      else if (j - end > 2 * CONTEXT) break;
    }
    const stop = Math.min(ops.length, end + 1 + CONTEXT);
    const hunk = ops.slice(start, stop);
    const oldCount = hunk.filter((o) => o.kind !== '+').length;
    const newCount = hunk.filter((o) => o.kind !== '-').length;
    const first = hunk[0] as Op;
    const oldStart = oldCount === 0 ? first.oldNo : first.oldNo + 1;
    const newStart = newCount === 0 ? first.newNo : first.newNo + 1;
    out.push(`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`);
    for (const op of hunk) {
      const noNewline = op.line.endsWith('\u0000');
      out.push(`${op.kind}${noNewline ? op.line.slice(0, -1) : op.line}`);
      if (noNewline) out.push('\\ No newline at end of file');
    }
    i = stop;
  }
  return `${out.join('\n')}\n`;
}

const range = (start: number, count: number) => (count === 1 ? `${start}` : `${start},${count}`);
