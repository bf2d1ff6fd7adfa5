import { createHash, createHmac, randomBytes } from 'node:crypto';

/** `X-TaskFlow-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** A new secret: 32 random bytes, as the `whsec_`-prefixed hex a receiver stores. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('hex')}`;
}

/**
 * The delivery id of event `auditEntryId` for webhook `webhookId`: a name-based UUID (version 5,
 * RFC 9562) with the webhook's id as namespace. Derived rather than stored, so it is the same on
 * every attempt from every replica, even one that crashed before recording its attempt: the
 * receiver can always recognise a repeat.
 */
export function deliveryId(webhookId: string, auditEntryId: number): string {
  const namespace = Buffer.from(webhookId.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(namespace).update(String(auditEntryId)).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
