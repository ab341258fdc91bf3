// Renders docs/configuration.md from SETTINGS, so the documentation cannot drift from the code
// (a unit test compares the committed file with this output; `npm run config-docs` rewrites it).
import { SETTINGS } from './config.js';

export function renderConfigDocs(): string {
  const rows = Object.values(SETTINGS).map((s) => {
    const shown = 'derivedDefault' in s && s.derivedDefault !== undefined ? s.derivedDefault : s.default;
    const def = shown === undefined ? '(unset)' : shown === '' ? '(empty)' : `\`${shown}\``;
    return `| \`${s.env}\` | ${def} | ${s.doc} |`;
  });
  return [
    '# Configuration',
    '',
    'Every setting is an environment variable, validated once at start-up (`domain/config.ts`); a bad',
    'value stops the process with a message naming the variable. Relative paths are resolved against',
    'the working directory. This file is generated: `npm run config-docs`.',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
