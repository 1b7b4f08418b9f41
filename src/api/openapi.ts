// The OpenAPI 3.1 description of the server, generated from the zod schemas
// the routes validate with and the ones their answers are held to: there is
// no second, hand-written copy of a schema a route validates with (the live
// connections' query, parsed by hand, is the one described here only).
// Routes are described in
// sections (see openapi-routes.ts); this module turns them into the document.
//
// To describe a new route module: write a function that returns an
// `ApiSection` (a tag, its operations with the module's own zod schemas, and
// names for the schemas worth a name), and add it to the list in
// `newswireApiDocument`. test/openapi/ then fails until every /api/v1 route of
// the app is described, and holds real answers to what is described.
import { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';
export type JsonSchema = Record<string, unknown>;

export interface ApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: z.ZodType;
  required?: boolean;
  description: string;
  /** A value for examples (path parameters: filled into the example request). */
  example?: string;
}

export interface ApiBody {
  /** The zod schema the route parses the body with (read on its input side). */
  schema: z.ZodType;
  required?: boolean;
  description?: string;
  example?: unknown;
  /** Default `application/json`. */
  contentType?: string;
}

export interface ApiResponse {
  description: string;
  /** The zod schema of the answer (its output side); none for an empty answer. */
  schema?: z.ZodType;
  /** Default `application/json` when there is a schema; other types get a string. */
  contentTypes?: string[];
  example?: unknown;
  /** Header name → what it says. */
  headers?: Record<string, string>;
  /** The same answer in other content types (chosen by `Accept` or a query), each with its own schema. */
  variants?: { contentType: string; schema: z.ZodType; example?: unknown }[];
}

export interface ApiOperation {
  method: HttpMethod;
  /** OpenAPI form: `/api/v1/items/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /**
   * Bearer token: `required`, `optional` (it shows more), or none (public);
   * `signed`: an HMAC of the body in `x-superdesk-signature` instead.
   */
  auth?: 'required' | 'optional' | 'signed';
  parameters?: ApiParameter[];
  /** A zod object whose fields are the query parameters; `notes` describes them. */
  query?: { schema: z.ZodType; notes: Record<string, string> };
  body?: ApiBody;
  responses: Record<number, ApiResponse>;
}

/** A name (a component of the document) and a description for a zod schema. */
export interface SchemaNote {
  schema: z.ZodType;
  id?: string;
  description: string;
}

export interface ApiSection {
  tag: string;
  description: string;
  schemas?: SchemaNote[];
  operations: ApiOperation[];
}

export interface DocumentInfo {
  title: string;
  description: string;
  version: string;
  /** Absolute base URL when known; otherwise the document's own origin. */
  serverUrl?: string;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  servers: { url: string; description?: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
}

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; description: string; schema: JsonSchema; example?: string }[];
  requestBody?: { required: boolean; description?: string; content: Record<string, MediaObject> };
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: Record<string, MediaObject> }>;
}

export interface MediaObject {
  schema: JsonSchema;
  example?: unknown;
}

const REF_PREFIX = '#/components/schemas/';

export function buildOpenApiDocument(info: DocumentInfo, sections: ApiSection[]): OpenApiDocument {
  // A registry per document: the names and descriptions of this build only.
  const registry = z.registry<{ id?: string; description?: string }>();
  for (const note of sections.flatMap((section) => section.schemas ?? [])) {
    registry.add(note.schema, note.id ? { id: note.id, description: note.description } : { description: note.description });
  }
  const components: Record<string, JsonSchema> = {};
  // Many answers share a schema (the error shapes): each is read once per side.
  const converted = { input: new Map<z.ZodType, JsonSchema>(), output: new Map<z.ZodType, JsonSchema>() };
  const convert = (schema: z.ZodType, io: 'input' | 'output') => {
    let json = converted[io].get(schema);
    if (!json) {
      json = toComponents(schema, io, registry, components);
      converted[io].set(schema, json);
    }
    return json;
  };

  const paths: OpenApiDocument['paths'] = {};
  let signed = false;
  for (const section of sections) {
    for (const op of section.operations) {
      const operation: OperationObject = {
        operationId: op.operationId,
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        tags: [section.tag],
        security: securityOf(op.auth),
        responses: {},
      };
      const parameters: NonNullable<OperationObject['parameters']> = (op.parameters ?? []).map((p) => ({
        name: p.name,
        in: p.in,
        required: p.in === 'path' || p.required === true,
        description: p.description,
        schema: convert(p.schema, 'input'),
        ...(p.example === undefined ? {} : { example: p.example }),
      }));
      if (op.query) parameters.push(...queryParameters(convert(op.query.schema, 'input'), op.query.notes, components));
      if (parameters.length) operation.parameters = parameters;
      if (op.body) {
        operation.requestBody = {
          required: op.body.required !== false,
          ...(op.body.description ? { description: op.body.description } : {}),
          content: {
            [op.body.contentType ?? 'application/json']: {
              schema: convert(op.body.schema, 'input'),
              ...(op.body.example === undefined ? {} : { example: op.body.example }),
            },
          },
        };
      }
      if (op.auth === 'signed') signed = true;
      for (const [status, response] of Object.entries(op.responses)) {
        const types = response.contentTypes ?? (response.schema ? ['application/json'] : []);
        const schema: JsonSchema = response.schema ? convert(response.schema, 'output') : { type: 'string' };
        const variants = (response.variants ?? []).map(
          (variant) =>
            [variant.contentType, { schema: convert(variant.schema, 'output'), ...(variant.example === undefined ? {} : { example: variant.example }) }] as const,
        );
        operation.responses[status] = {
          description: response.description,
          ...(response.headers
            ? {
                headers: Object.fromEntries(
                  Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
                ),
              }
            : {}),
          ...(types.length || variants.length
            ? {
                content: Object.fromEntries([
                  ...types.map((type) => [type, { schema, ...(response.example === undefined ? {} : { example: response.example }) }] as const),
                  ...variants,
                ]),
              }
            : {}),
        };
      }
      paths[op.path] ??= {};
      const forPath = paths[op.path] as Record<string, OperationObject>;
      if (forPath[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is described twice`);
      forPath[op.method] = operation;
    }
  }

  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      description: info.description,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: info.serverUrl ?? '/', description: info.serverUrl ? 'this server' : 'the server of this document' }],
    tags: sections.map((section) => ({ name: section.tag, description: section.description })),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A publisher token (`PUBLISHER_TOKENS`) or a key made with `POST /api/v1/keys`: `Authorization: Bearer <token>`. A key may do only its actions (`publish`, `correct`, `kill`, `ingest`, `admin`) to its topics: otherwise `403 forbidden-action` or `403 forbidden-topic`.',
        },
        ...(signed
          ? {
              superdeskSignature: {
                type: 'apiKey',
                in: 'header',
                name: 'x-superdesk-signature',
                description: '`sha1=<hex>`: the HMAC-SHA1 of the raw body with `SUPERDESK_SECRET` (the secret token of the Superdesk HTTP Push destination). A missing or wrong one is `403 bad-signature`.',
              },
            }
          : {}),
      },
    },
  };
}

function securityOf(auth: ApiOperation['auth']): Record<string, string[]>[] {
  if (auth === 'required') return [{ bearer: [] }];
  if (auth === 'optional') return [{}, { bearer: [] }];
  if (auth === 'signed') return [{ superdeskSignature: [] }];
  return [];
}

/**
 * The JSON Schema of one zod schema. Named schemas (registry ids) go to the
 * document's components and are referred to; one name read two ways (input
 * and output) to two shapes is refused, so a name always means one shape.
 */
function toComponents(
  schema: z.ZodType,
  io: 'input' | 'output',
  registry: z.core.$ZodRegistry<{ id?: string; description?: string }>,
  components: Record<string, JsonSchema>,
): JsonSchema {
  // Refinements and transforms have no JSON Schema: they are left out (the
  // route still applies them), never a reason to fail.
  const json = z.toJSONSchema(schema, { io, metadata: registry, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  const { $schema: _dialect, $defs, ...root } = json;
  for (const [name, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
    const component = pointRefs(definition) as JsonSchema;
    const known = components[name];
    if (known && JSON.stringify(known) !== JSON.stringify(component)) {
      throw new Error(`schema "${name}" has two shapes (is it both a request and a response?): give one of them another name`);
    }
    components[name] = component;
  }
  return pointRefs(root) as JsonSchema;
}

function pointRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pointRefs);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? inner.replace(/^#\/\$defs\//, REF_PREFIX) : pointRefs(inner),
    ]),
  );
}

/** A zod object's fields as query parameters (required unless optional or defaulted). */
function queryParameters(
  object: JsonSchema,
  notes: Record<string, string>,
  components: Record<string, JsonSchema>,
): NonNullable<OperationObject['parameters']> {
  const resolved = typeof object.$ref === 'string' ? components[object.$ref.slice(REF_PREFIX.length)] : object;
  const properties = (resolved?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((resolved?.required ?? []) as string[]);
  return Object.entries(properties).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query',
    required: required.has(name),
    description: notes[name] ?? (typeof description === 'string' ? description : name),
    schema,
  }));
}
