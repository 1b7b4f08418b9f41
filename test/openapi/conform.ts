// Holds real answers to the OpenAPI document the server itself serves: the
// status must be documented for the operation, the content type one of the
// documented ones, the documented headers present, and the body valid
// against the documented schema (Ajv, JSON Schema 2020-12). Every checked
// (operation, status) is recorded, so a test can tell what it never saw.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import type { OpenApiDocument } from '../../src/api/openapi.ts';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export interface RealAnswer {
  status: number;
  headers: Headers;
  /** The body as received (text); parsed here when the documented type is JSON. */
  text: string;
}

export class Conformance {
  readonly seen = new Set<string>();
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly doc: OpenApiDocument) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(this.ajv);
    // The document's schemas, so that `#/components/schemas/X` resolves.
    this.ajv.addKeyword('components');
  }

  /** Every (operation, status) the document describes, as `METHOD path status`. */
  documented(prefix = ''): string[] {
    return Object.entries(this.doc.paths)
      .filter(([path]) => path.startsWith(prefix))
      .flatMap(([path, methods]) =>
        Object.entries(methods).flatMap(([method, op]) => Object.keys(op.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`)),
      );
  }

  /** Asserts that the answer is what the document says `method path` answers. */
  check(method: string, path: string, answer: RealAnswer): unknown {
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    expect(op, `${method} ${path} is not in the document`).toBeDefined();
    const response = op?.responses[String(answer.status)];
    expect(response, `${method} ${path} answered ${answer.status}, which is not documented: ${answer.text.slice(0, 300)}`).toBeDefined();
    this.seen.add(`${method.toUpperCase()} ${path} ${answer.status}`);
    for (const header of Object.keys(response?.headers ?? {})) {
      expect(answer.headers.get(header), `${method} ${path} ${answer.status} documents the header ${header}`).not.toBeNull();
    }
    const types = Object.keys(response?.content ?? {});
    if (types.length === 0) return undefined;
    const type = (answer.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    expect(types, `${method} ${path} ${answer.status} sent ${type}`).toContain(type);
    const media = response?.content?.[type];
    if (!type.endsWith('json') || !media) return answer.text;
    const body: unknown = JSON.parse(answer.text);
    const validate = this.validator(`${method} ${path} ${answer.status} ${type}`, media.schema);
    if (!validate(body)) {
      throw new Error(
        `${method} ${path} ${answer.status} does not match its documented schema:\n${this.ajv.errorsText(validate.errors, { separator: '\n' })}\nbody: ${answer.text.slice(0, 2_000)}`,
      );
    }
    return body;
  }

  private validator(key: string, schema: Record<string, unknown>): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ ...schema, components: this.doc.components });
      this.validators.set(key, validate);
    }
    return validate;
  }
}

/** A request answered in full, for `Conformance.check`. */
export async function request(
  url: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<RealAnswer & { json: () => any }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}
