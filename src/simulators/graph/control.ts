/**
 * `/__sim/…` on the Graph host: the SimDrive controls over HTTP, without auth and without faults,
 * for the sandbox UI.
 *
 *   GET  /__sim/drives                              → {drives:[{userId, driveId}]}
 *   GET  /__sim/drives/:userId                      → {userId, driveId, quota, counters, uploadSessions}
 *   GET  /__sim/drives/:userId/files | /folders     → {files:[…]} | {folders:[…]}
 *   GET  /__sim/drives/:userId/content?path=…       → the file's bytes
 *   POST /__sim/drives/:userId/delete {path}|{id}   → 204 (to the recycle bin, as the user)
 *   POST /__sim/drives/:userId/quota {total?,used?} → the quota
 *   POST /__sim/drives/:userId/expire-delta-tokens | /expire-upload-sessions → 204
 *   POST /__sim/drives/:userId/expire-access-tokens → 204 (Graph answers 401 to the user's current
 *     access tokens before their expiry; 404 when the simulator was started without a directory)
 *   POST /__sim/faults {method?, path?, action, times? | fraction, seed?} → {id};  DELETE /__sim/faults → 204
 *     (`fraction`: that share of matching requests, drawn from `seed`, until the faults are cleared)
 */
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { Faults } from '../faults.js';
import { GraphError, itemNotFound } from './errors.js';
import type { Exchange } from './exchange.js';
import type { SimDrive } from './sim-drive.js';

export interface ControlDeps {
  faults: Faults;
  drive(userId: string): SimDrive;
  userIds(): string[];
  expireAccessTokens?: (userId: string) => void;
}

const deleteBody = z
  .looseObject({ path: z.string().optional(), id: z.string().optional() })
  .refine((b) => (b.path === undefined) !== (b.id === undefined), 'give exactly one of path or id');
const quotaBody = z.looseObject({ total: z.number().int().nonnegative().optional(), used: z.number().int().nonnegative().optional() });
const faultBody = z.looseObject({
  method: z.string().optional(),
  path: z.string().optional(),
  times: z.number().int().positive().optional(),
  fraction: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  action: z.discriminatedUnion('kind', [
    z.looseObject({ kind: z.literal('status'), status: z.number().int(), retryAfterSec: z.number().nonnegative().optional(), code: z.string().optional() }),
    z.looseObject({ kind: z.literal('drop') }),
    z.looseObject({ kind: z.literal('drop-after-bytes'), bytes: z.number().int().nonnegative() }),
    z.looseObject({ kind: z.literal('stall') }),
    z.looseObject({ kind: z.literal('stall-body'), bytes: z.number().int().nonnegative() }),
  ]),
});

export async function handleControl(ex: Exchange, deps: ControlDeps): Promise<void> {
  let parts: string[];
  try {
    parts = ex.rawPath.split('/').slice(2).map(decodeURIComponent);
  } catch {
    throw new GraphError(400, 'invalidRequest', `Malformed path ${ex.rawPath}.`);
  }
  const route = `${ex.method} ${parts[0] ?? ''}${parts.length > 2 ? `/:user/${parts[2]}` : parts.length === 2 ? '/:user' : ''}`;
  if (route === 'POST faults') {
    const body = await ex.json(faultBody);
    const match = { method: body.method, path: body.path };
    const id =
      body.fraction === undefined
        ? deps.faults.add(match, body.action, body.times)
        : deps.faults.addRandom(match, body.action, { fraction: body.fraction, seed: body.seed });
    return ex.send(200, { id });
  }
  if (route === 'DELETE faults') {
    deps.faults.clear();
    return ex.send(204);
  }
  if (route === 'GET drives') return ex.send(200, { drives: deps.userIds().map((userId) => ({ userId, driveId: deps.drive(userId).id })) });
  const userId = parts[1] ?? '';
  const drive = deps.drive(userId);
  switch (route) {
    case 'GET drives/:user':
      return ex.send(200, { userId, driveId: drive.id, quota: drive.quota(), counters: drive.counters, uploadSessions: drive.uploadSessionCount() });
    case 'GET drives/:user/files':
      return ex.send(200, { files: drive.listFiles() });
    case 'GET drives/:user/folders':
      return ex.send(200, { folders: drive.listFolders() });
    case 'GET drives/:user/content': {
      const entry = drive.getByPath(ex.query.get('path') ?? '');
      if (!entry || entry.kind !== 'file') throw itemNotFound();
      ex.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': entry.size });
      return pipeline(drive.readFile(entry.id), ex.res);
    }
    case 'POST drives/:user/delete': {
      const body = await ex.json(deleteBody);
      const entry = body.path !== undefined ? drive.getByPath(body.path) : { id: body.id ?? '' };
      if (!entry) throw itemNotFound();
      await drive.deleteById(entry.id).catch(() => {
        throw itemNotFound();
      });
      return ex.send(204);
    }
    case 'POST drives/:user/quota':
      drive.setQuota(await ex.json(quotaBody));
      return ex.send(200, drive.quota());
    case 'POST drives/:user/expire-delta-tokens':
      drive.expireDeltaTokens();
      return ex.send(204);
    case 'POST drives/:user/expire-upload-sessions':
      await drive.expireUploadSessions();
      return ex.send(204);
    case 'POST drives/:user/expire-access-tokens':
      if (!deps.expireAccessTokens) throw new GraphError(404, 'itemNotFound', 'This simulator was started without an identity directory.');
      deps.expireAccessTokens(userId);
      return ex.send(204);
    default:
      throw new GraphError(404, 'itemNotFound', `No simulator control at ${ex.method} ${ex.rawPath}.`);
  }
}
