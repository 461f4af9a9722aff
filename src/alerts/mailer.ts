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

/**
 * Alert mail through SMTP_URL (nodemailer). `smtp://` upgrades with STARTTLS whenever the server offers
 * it; `smtps://` speaks TLS from the first byte (port 465). Credentials come from the URL.
 */
export function smtpMailer(smtpUrl: string, from: string): Mailer & { close(): void } {
  const options: SMTPTransport.Options = { url: smtpUrl, ...TIMEOUTS };
  const transport = nodemailer.createTransport(options);
  return {
    async send({ to, subject, text }) {
      await transport.sendMail({ from, to, subject, text });
    },
    close: () => transport.close(),
  };
}
