/**
 * Basic auth in front of the flows' HTTP endpoints (settings.httpNodeAuth). Node-RED's own
 * launcher (red.js) adds this middleware; an app that embeds Node-RED must add it itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type { NextFunction, Request, Response } from 'express';

interface Bcrypt {
  compareSync(password: string, hash: string): boolean;
}

/** Node-RED's bcrypt (bcryptjs, its dependency), so the hashes `node-red admin hash-pw` prints verify. */
function nodeRedBcrypt(): Bcrypt {
  const fromNodeRed = createRequire(require.resolve('node-red'));
  return fromNodeRed('bcryptjs') as Bcrypt;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function credentialsOf(req: Request): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function basicAuth(auth: { user: string; pass: string }) {
  const bcrypt = nodeRedBcrypt();
  const userDigest = sha256(auth.user);
  // bcrypt costs ~100 ms a call: remember the digest of the last password that matched.
  let verified: Buffer | undefined;
  const passwordOk = (password: string) => {
    const digest = sha256(password);
    if (verified && timingSafeEqual(verified, digest)) return true;
    if (!bcrypt.compareSync(password, auth.pass)) return false;
    verified = digest;
    return true;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'OPTIONS') return next();
    const given = credentialsOf(req);
    const userOk = given !== undefined && timingSafeEqual(sha256(given.user), userDigest);
    if (given && passwordOk(given.password) && userOk) return next();
    res.set('WWW-Authenticate', 'Basic realm="gridflow API"');
    res.status(401).end();
  };
}
