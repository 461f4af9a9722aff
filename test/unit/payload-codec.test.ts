import { randomBytes } from 'node:crypto';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { encodeErrorToFailure, decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow/codec-helpers.js';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers.js';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { keyFingerprint, type KeyList } from '../../src/auth/keys.js';
import { dataConverterFor } from '../../src/temporal/data-converter.js';
import { EncryptionCodec, payloadKeys } from '../../src/temporal/payload-codec.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const json = (value: unknown): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) });
const text = (p: Payload) => Buffer.from(p.data ?? []).toString();
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString();
const SECRET = { folderName: 'Compte principal (0107)', file: '2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.pdf' };

describe('EncryptionCodec (AES-256-GCM payloads)', () => {
  it('encrypts the whole payload, names the key in the metadata, and decodes it back', async () => {
    const codec = new EncryptionCodec([keyA]);
    const [encoded] = await codec.encode([json(SECRET)]);
    expect(meta(encoded!, 'encoding')).toBe('binary/encrypted');
    expect(meta(encoded!, 'encryption-key-id')).toBe(keyFingerprint(keyA).toString('hex'));
    expect(text(encoded!)).not.toContain('Compte');
    expect(Buffer.from(encoded!.data!).includes(Buffer.from('json/plain'))).toBe(false);
    const [decoded] = await codec.decode([encoded!]);
    expect(meta(decoded!, 'encoding')).toBe('json/plain');
    expect(JSON.parse(text(decoded!))).toEqual(SECRET);
  });

  it('rotates: B,A decodes what A encoded and encodes with B; B alone still decodes that', async () => {
    const [byA] = await new EncryptionCodec([keyA]).encode([json(SECRET)]);
    const rotated = new EncryptionCodec([keyB, keyA]);
    expect(JSON.parse(text((await rotated.decode([byA!]))[0]!))).toEqual(SECRET);
    const [byB] = await rotated.encode([json(SECRET)]);
    expect(meta(byB!, 'encryption-key-id')).toBe(keyFingerprint(keyB).toString('hex'));
    expect(JSON.parse(text((await new EncryptionCodec([keyB]).decode([byB!]))[0]!))).toEqual(SECRET);
    await expect(new EncryptionCodec([keyB]).decode([byA!])).rejects.toThrow(/does not list/);
  });

  it('passes payloads that were never encrypted through, and refuses tampered ones', async () => {
    const codec = new EncryptionCodec([keyA]);
    expect(await codec.decode([json(1)])).toEqual([json(1)]);
    const [encoded] = await codec.encode([json(SECRET)]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 1;
    await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow(/authentication/);
    await expect(codec.decode([{ ...encoded!, data: data.subarray(0, 10) }])).rejects.toThrow(/truncated/);
  });

  it('takes PAYLOAD_KEY when set, else keys derived from each encryption key (rotating with them)', () => {
    expect(payloadKeys(`p:${keyB.toString('base64')}`, [keyA])).toEqual([keyB]);
    const derived = payloadKeys(undefined, [keyB, keyA] as KeyList);
    expect(derived).toHaveLength(2);
    expect(derived[1]).toEqual(payloadKeys('', [keyA])[0]);
    expect(derived[0].equals(keyB)).toBe(false);
  });
});

describe('dataConverterFor', () => {
  it('encrypts failure messages and stack traces too (an upload error names its file)', async () => {
    const converter = loadDataConverter(dataConverterFor(new EncryptionCodec([keyA])));
    const failure = await encodeErrorToFailure(converter, ApplicationFailure.nonRetryable(`upload of ${SECRET.file} refused`));
    const wire = Buffer.from(proto.temporal.api.failure.v1.Failure.encode(failure).finish());
    expect(wire.includes(Buffer.from('Amazon'))).toBe(false);
    const back = await decodeOptionalFailureToOptionalError(converter, failure);
    expect(back?.message).toBe(`upload of ${SECRET.file} refused`);
  });
});
