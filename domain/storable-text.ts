// Text PostgreSQL cannot store (docs/architecture.md "Security rules"): U+0000, which text and
// jsonb refuse (22021, 22P05), and a lone UTF-16 surrogate (jsonb refuses the \ud800 escape
// JSON.stringify writes; text would get U+FFFD). Such input is refused where it enters — the API's
// bodies and queries, a webhook's values — so it never reaches the database as a 500.

// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether PostgreSQL can store `text` as text or inside jsonb. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}
