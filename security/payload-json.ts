// Payloads in proto3 JSON form, {metadata: {key: base64}, data: base64}: the body of Temporal's
// codec server protocol (POST /encode, /decode) and the form of contracts/codec-vectors.json.
import type { Payload } from '@temporalio/common';

export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export function payloadFromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, bytes(v)])),
    data: bytes(p.data ?? ''),
  };
}

export function payloadToJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
    data: b64(p.data ?? new Uint8Array()),
  };
}

/** Parses `{payloads: [...]}`; the error says which field is wrong, since the UI shows it verbatim. */
export function payloadsFromJsonBody(body: unknown): Payload[] {
  const payloads = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new Error('request body must be JSON {"payloads": [...]}');
  return payloads.map((p: unknown, i) => {
    const { metadata, data } = (p ?? {}) as Record<string, unknown>;
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Object.values(metadata).some((v) => typeof v !== 'string'))) {
      throw new Error(`payloads[${i}].metadata must map keys to base64 strings`);
    }
    if (data !== undefined && typeof data !== 'string') throw new Error(`payloads[${i}].data must be a base64 string`);
    return payloadFromJson({ metadata: metadata as Record<string, string> | undefined, data });
  });
}
