import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO): who really gets it. */
  to: string[];
  from: string;
  subject: string;
  text: string;
}

/** A real SMTP server on loopback (smtp-server) that keeps what it receives. Plain SMTP with AUTH:
 * the client's STARTTLS upgrade happens only when a server offers it, and this one has no
 * certificate a client would trust. */
export class TestSmtp {
  readonly received: ReceivedMail[] = [];
  /** Messages still to refuse at the end of DATA (a transient 451): the client's attempt fails. */
  refuseNext = 0;
  /** Messages refused so far. */
  refused = 0;

  private readonly server: SMTPServer;
  port = 0;

  private constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth: (_auth, _session, callback) => callback(null, { user: 'alerts' }),
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.refuseNext > 0) {
            this.refuseNext -= 1;
            this.refused += 1;
            return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
          }
          simpleParser(Buffer.concat(chunks)).then(
            (parsed) => {
              this.received.push({
                to: session.envelope.rcptTo.map((r) => r.address),
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                subject: parsed.subject ?? '',
                text: parsed.text ?? '',
              });
              callback();
            },
            (error: Error) => callback(error),
          );
        });
      },
    });
  }

  static async start(): Promise<TestSmtp> {
    const smtp = new TestSmtp();
    await new Promise<void>((resolve) => smtp.server.listen(0, '127.0.0.1', resolve));
    smtp.port = (smtp.server.server.address() as AddressInfo).port;
    return smtp;
  }

  /** SMTP_URL for the service, with credentials as a real server would want them. */
  get url(): string {
    return `smtp://alerts:secret@127.0.0.1:${this.port}`;
  }

  /** Mails whose subject starts with `subject` (each condition has its own). */
  matching(subject: string): ReceivedMail[] {
    return this.received.filter((m) => m.subject.startsWith(subject));
  }

  /** The first mail `found` picks, once it has arrived (polled: the mail is sent by an activity the
   * caller cannot await). */
  async arrival(what: string, found: (mails: ReceivedMail[]) => ReceivedMail | undefined, timeoutMs = 60_000): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mail = found(this.received);
      if (mail) return mail;
      if (Date.now() > deadline) throw new Error(`timed out waiting for the mail ${what}; received: ${JSON.stringify(this.received.map((m) => m.subject))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
