// Small Markdown helpers for text sent to GitHub (PR body, comments). Values come from the
// database and from config files, so they are escaped before they reach a table or a heading.

/** One table cell: pipes escaped, line breaks kept visible, raw HTML neutralized. */
export function escapeTableCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r\n|\r|\n/g, '<br>');
}

/** One line of prose (a heading, a list item): line breaks collapsed, raw HTML neutralized. */
export function inlineText(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(escapeTableCell).join(' | ')} |`;
  return [line(header), `|${header.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}
