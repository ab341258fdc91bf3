// Opaque list cursors (docs/api.md): base64url(JSON position) + "." + a truncated HMAC over the list
// name and the position. A cursor edited by hand, cut short or taken from another list is a 422
// VALIDATION_ERROR on `cursor` instead of a silently wrong page. The key derives from the API
// token, so every stateless API replica accepts the others' cursors; rotating the token ends
// outstanding cursors, which only restarts a walk.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { POSITION_TIMESTAMP, type PagePosition } from '../db/paging.js';
import { validationError } from './validation.js';

const positionSchema = z.strictObject({
  t: z
    .string()
    .regex(POSITION_TIMESTAMP)
    .refine((t) => !Number.isNaN(Date.parse(t))),
  i: z.guid(),
});

export interface CursorCodec {
  encode(list: string, position: PagePosition): string;
  /** Throws the 422 for anything it did not issue itself. */
  assertDecoded(list: string, cursor: string | undefined): PagePosition | undefined;
}

export function createCursorCodec(apiToken: string): CursorCodec {
  const key = createHash('sha256').update(`relyloop-pr cursor key\0${apiToken}`).digest();
  const mac = (list: string, payload: string) =>
    createHmac('sha256', key).update(`${list}\0${payload}`).digest().subarray(0, 16);
  const bad = () => validationError('cursor', 'cursor is malformed or was not issued for this list');
  return {
    encode(list, position) {
      const payload = Buffer.from(JSON.stringify({ t: position.createdAt, i: position.id })).toString('base64url');
      return `${payload}.${mac(list, payload).toString('base64url')}`;
    },
    assertDecoded(list, cursor) {
      if (cursor === undefined) return undefined;
      const match = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
      if (match?.[1] === undefined || match[2] === undefined) throw bad();
      const given = Buffer.from(match[2], 'base64url');
      // Re-encoding must give back the same text, so non-canonical base64 variants are refused too.
      if (
        given.length !== 16 ||
        given.toString('base64url') !== match[2] ||
        !timingSafeEqual(given, mac(list, match[1]))
      )
        throw bad();
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8'));
      } catch {
        throw bad();
      }
      const parsed = positionSchema.safeParse(decoded);
      if (!parsed.success) throw bad();
      return { createdAt: parsed.data.t, id: parsed.data.i };
    },
  };
}
