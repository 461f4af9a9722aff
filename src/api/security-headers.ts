import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

const SELF = ["'self'"];
const NONE = ["'none'"];

/**
 * Headers on every answer, pages, API and errors alike. The pages load only their own script and
 * stylesheet (no inline script or style, no other origin), may not be framed, and send no referrer to
 * other sites (the query carries the integration id and the Microsoft username). HSTS only when the
 * service is reached over https: on plain http it would be ignored, or pin a local name to https.
 */
export function securityHeaders(publicUrl: string): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: NONE,
      scriptSrc: SELF,
      styleSrc: SELF,
      imgSrc: SELF,
      connectSrc: SELF,
      formAction: SELF,
      frameAncestors: NONE,
      baseUri: NONE,
      objectSrc: NONE,
    },
    xFrameOptions: 'DENY',
    // Not no-referrer: a form post would then send `Origin: null`, which the same-origin check refuses.
    referrerPolicy: 'same-origin',
    strictTransportSecurity: publicUrl.startsWith('https://') ? 'max-age=31536000' : false,
  });
}
