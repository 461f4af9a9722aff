/**
 * Pre-signed download URLs in the style of S3 (docs/contracts-qonto.md, Attachments): the simulator serves them itself
 * under /s3/attachments/<id>. The signature is an HMAC over the attachment id, the signing time
 * and the lifetime, so a URL cannot be stretched or pointed at another file.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DOWNLOAD_PATH_PREFIX = '/s3/attachments/';
/** Probative copies are objects of their own, under their own prefix. */
export const PROBATIVE_PATH_PREFIX = '/s3/probative-attachments/';

export type UrlCheck =
  | { ok: true }
  | { ok: false; code: 'AccessDenied' | 'SignatureDoesNotMatch'; message: string };

/** `20240131T235959Z`, the X-Amz-Date format. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : Number.NaN;
}

export class UrlSigner {
  private readonly secret = randomBytes(32);

  constructor(
    private readonly now: () => number,
    private readonly ttlSec: number,
  ) {}

  /** Absolute URL of the attachment body under `baseUrl`, valid `ttlSec` seconds from now(). */
  sign(baseUrl: string, attachmentId: string, prefix = DOWNLOAD_PATH_PREFIX): string {
    const date = amzDate(this.now());
    const expires = String(this.ttlSec);
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `SIMULATOR/${date.slice(0, 8)}/eu-central-1/s3/aws4_request`,
      'X-Amz-Date': date,
      'X-Amz-Expires': expires,
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': this.signature(`${prefix}${attachmentId}`, date, expires),
    });
    return `${baseUrl}${prefix}${encodeURIComponent(attachmentId)}?${query.toString()}`;
  }

  check(attachmentId: string, query: URLSearchParams, prefix = DOWNLOAD_PATH_PREFIX): UrlCheck {
    const date = query.get('X-Amz-Date') ?? '';
    const expires = query.get('X-Amz-Expires') ?? '';
    const given = Buffer.from(query.get('X-Amz-Signature') ?? '', 'utf8');
    const wanted = Buffer.from(this.signature(`${prefix}${attachmentId}`, date, expires), 'utf8');
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      return {
        ok: false,
        code: 'SignatureDoesNotMatch',
        message: 'The request signature we calculated does not match the signature you provided.',
      };
    }
    if (this.now() > parseAmzDate(date) + Number(expires) * 1000) {
      return { ok: false, code: 'AccessDenied', message: 'Request has expired' };
    }
    return { ok: true };
  }

  /** `resource`: the object's path prefix and id, so a copy's URL cannot fetch the original. */
  private signature(resource: string, date: string, expires: string): string {
    return createHmac('sha256', this.secret).update(`${resource}\n${date}\n${expires}`).digest('hex');
  }
}
