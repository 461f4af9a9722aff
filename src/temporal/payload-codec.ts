/**
 * Encryption of Temporal payloads (workflow inputs and results, activity arguments and results,
 * signals, queries, heartbeats, failures' messages): what the Temporal server stores and its UI shows
 * is ciphertext; only holders of a payload key (worker, client, the codec server) read it.
 *
 * An encrypted payload is the whole original payload (metadata and data, protobuf-serialised) sealed
 * with AES-256-GCM: data = [IV 12 bytes][ciphertext][tag 16 bytes], metadata = { encoding:
 * binary/encrypted, encryption-key-id: fingerprint of the key }. Keys rotate like ENCRYPTION_KEY's:
 * the first encrypts, every listed one decrypts.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { keyFingerprint, parseKeyList, type KeyList } from '../auth/keys.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = (text: string) => Buffer.from(text, 'utf8');

/**
 * PAYLOAD_KEY (one key or `id:key,…`) when set; else keys derived from the encryption keys, so that
 * rotating ENCRYPTION_KEY rotates them too and a deployment has one secret to keep.
 */
export function payloadKeys(payloadKey: string | undefined, encryptionKeys: KeyList): KeyList {
  if (payloadKey !== undefined && payloadKey.trim() !== '') return parseKeyList(payloadKey, 'PAYLOAD_KEY');
  return encryptionKeys.map((key) => createHmac('sha256', key).update('temporal-payload-key').digest()) as unknown as KeyList;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly currentId: string;

  constructor(keys: KeyList) {
    this.byId = new Map(keys.map((key) => [keyFingerprint(key).toString('hex'), key]));
    this.currentId = keyFingerprint(keys[0]).toString('hex');
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.byId.get(this.currentId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(utf8(this.currentId));
      const plain = proto.temporal.api.common.v1.Payload.encode(payload).finish();
      return {
        metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(this.currentId) },
        data: Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      // Payloads written before encryption was on (or by another converter) pass through.
      if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const id = idBytes ? Buffer.from(idBytes).toString() : '';
      const key = this.byId.get(id);
      if (!key) throw new ValueError(`payload encrypted with key ${id || '(none)'}, which PAYLOAD_KEY (or ENCRYPTION_KEY) does not list`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new ValueError('encrypted payload failed authentication');
      }
      return proto.temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
