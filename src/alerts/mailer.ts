import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';

export interface OutgoingMail {
  to: string[];
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}

/** Bounded so that a silent server fails the attempt well within the activity's one-minute timeout
 * (the retry then finds the mail claimed but not sent, and sends it). */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * nodemailer's options for SMTP_URL. `smtps://` speaks TLS from the first byte (port 465); `smtp://`
 * upgrades with STARTTLS, and when the URL carries credentials for a server beyond this machine the
 * upgrade is required: a server (or a man in the middle) that does not offer it never sees the password.
 */
export function transportOptions(smtpUrl: string): SMTPTransport.Options {
  const url = new URL(smtpUrl);
  const credentials = url.username !== '' || url.password !== '';
  return { url: smtpUrl, ...TIMEOUTS, requireTLS: url.protocol === 'smtp:' && credentials && !LOOPBACK.has(url.hostname) };
}

/** Alert mail through SMTP_URL (nodemailer). */
export function smtpMailer(smtpUrl: string, from: string): Mailer & { close(): void } {
  const transport = nodemailer.createTransport(transportOptions(smtpUrl));
  return {
    async send({ to, subject, text }) {
      await transport.sendMail({ from, to, subject, text });
    },
    close: () => transport.close(),
  };
}
