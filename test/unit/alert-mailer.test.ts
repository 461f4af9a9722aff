import { describe, expect, it } from 'vitest';
import { transportOptions } from '../../src/alerts/mailer.js';

describe('SMTP_URL', () => {
  it('requires STARTTLS before credentials go to a server beyond this machine', () => {
    expect(transportOptions('smtp://user:pass@mail.example.com:587')).toMatchObject({ requireTLS: true });
    // Without credentials, or on loopback (a local relay, the tests' server), the upgrade is taken when offered.
    expect(transportOptions('smtp://mail.example.com:25')).toMatchObject({ requireTLS: false });
    expect(transportOptions('smtp://user:pass@127.0.0.1:2525')).toMatchObject({ requireTLS: false });
    // smtps is TLS from the start.
    expect(transportOptions('smtps://user:pass@mail.example.com:465')).toMatchObject({ url: 'smtps://user:pass@mail.example.com:465', requireTLS: false });
  });

  it('bounds every wait well within the activity timeout', () => {
    const o = transportOptions('smtp://mail.example.com');
    expect([o.connectionTimeout, o.greetingTimeout, o.socketTimeout].every((ms) => ms !== undefined && ms <= 20_000)).toBe(true);
  });
});
