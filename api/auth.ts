// Bearer-token authentication for every route but /healthz (docs/api.md). The comparison hashes both
// sides first so it runs in constant time whatever the presented length.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../domain/errors.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function requireBearerToken(expected: string): RequestHandler {
  const want = digest(expected);
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
    if (match?.[1] !== undefined && timingSafeEqual(digest(match[1]), want)) {
      next();
      return;
    }
    next(new AppError({ code: 'UNAUTHORIZED', message: 'missing or invalid bearer token' }));
  };
}
