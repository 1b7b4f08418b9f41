// The API reference page (/docs/api), rendered on the server from the OpenAPI
// document itself, once per process: no script, nothing from another origin,
// every string escaped, so it obeys the site's Content-Security-Policy.
import { type Context, Hono } from 'hono';
import { type Compressed, compressOnce, sendVariant } from '../http/encoding.ts';
import { html, type Markup, trusted } from '../pages/html.ts';
import { shell } from '../pages/layout.ts';
import { escapeHtml } from '../domain/item.ts';
import type { JsonSchema, OpenApiDocument, OperationObject } from './openapi.ts';

const REF = /^#\/components\/schemas\/(.+)$/;

/** Text with `code` spans, as the document's descriptions write them; everything else escaped. */
function prose(text: string | undefined): Markup {
  if (!text) return trusted('');
  return trusted(
    text
      .split('`')
      .map((part, index) => (index % 2 === 1 ? `<code>${escapeHtml(part)}</code>` : escapeHtml(part)))
      .join(''),
  );
}

const slug = (value: string) => value.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const refName = (schema: JsonSchema) => (typeof schema.$ref === 'string' ? REF.exec(schema.$ref)?.[1] : undefined);

/** A schema in a few words: its type, name or values, and its bounds. */
function typeOf(schema: JsonSchema | undefined): Markup {
  if (!schema) return html`any`;
  const name = refName(schema);
  if (name) return html`<a href="#schema-${slug(name)}">${name}</a>`;
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return html`${alternatives.map((alt, i) => html`${i ? ' | ' : ''}${typeOf(alt)}`)}`;
  if ('const' in schema) return html`<code>${JSON.stringify(schema.const)}</code>`;
  if (Array.isArray(schema.enum)) return html`${schema.enum.map((value, i) => html`${i ? ' | ' : ''}<code>${JSON.stringify(value)}</code>`)}`;
  if (schema.type === 'array') return html`array of ${typeOf(schema.items as JsonSchema | undefined)}`;
  if (schema.type === 'object' && !schema.properties && schema.additionalProperties) {
    return html`object of ${typeOf(schema.additionalProperties as JsonSchema)}`;
  }
  return html`${String(schema.type ?? 'any')}${schema.format ? html` (${String(schema.format)})` : ''}`;
}

/** Bounds and defaults worth reading; long patterns are left to /openapi.json. */
function constraints(schema: JsonSchema | undefined): string {
  if (!schema) return '';
  const parts: string[] = [];
  const say = (key: string, label: string) => {
    if (typeof schema[key] === 'number' && Math.abs(schema[key] as number) < Number.MAX_SAFE_INTEGER) parts.push(`${label} ${schema[key]}`);
  };
  say('minLength', 'min length');
  say('maxLength', 'max length');
  say('minItems', 'min items');
  say('maxItems', 'max items');
  say('minimum', 'min');
  say('maximum', 'max');
  if (typeof schema.pattern === 'string' && schema.pattern.length <= 60 && !schema.format) parts.push(`pattern ${schema.pattern}`);
  if ('default' in schema) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(', ');
}

/** The type cell of a table row: the type, and its bounds under it when it has any. */
function typeWithBounds(schema: JsonSchema | undefined): Markup {
  const bounds = constraints(schema);
  return html`${typeOf(schema)}${bounds ? html`<br><span class="api-bounds">${bounds}</span>` : ''}`;
}

function propertiesTable(schema: JsonSchema | undefined, doc: OpenApiDocument): Markup {
  const name = schema && refName(schema);
  const resolved = name ? doc.components.schemas[name] : schema;
  const properties = resolved?.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return trusted('');
  const required = new Set((resolved?.required ?? []) as string[]);
  return html`<table class="api-table">
<thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead>
<tbody>${Object.entries(properties).map(
    ([field, property]) => html`<tr><td><code>${field}</code></td><td>${typeWithBounds(property)}</td><td>${required.has(field) ? 'yes' : 'no'}</td><td>${prose(property.description as string | undefined)}</td></tr>`,
  )}</tbody>
</table>`;
}

/** An example, folded away (without a script) unless `open`. */
function example(value: unknown, label: string, open = false): Markup {
  if (value === undefined) return trusted('');
  return html`<details class="api-details"${open ? ' open' : ''}><summary class="api-label">${label}</summary><pre class="api-example" tabindex="0"><code>${JSON.stringify(value, null, 2)}</code></pre></details>`;
}

/** The operation as a curl command: path parameters from their examples, the body from the request example. */
function curl(method: string, path: string, op: OperationObject, base: string): string {
  const filled = path.replace(/\{(\w+)\}/g, (whole, name: string) => op.parameters?.find((p) => p.name === name)?.example ?? whole);
  const lines = [`curl${method === 'get' ? '' : ` -X ${method.toUpperCase()}`} '${base}${filled}'`];
  if (op.security.length > 0 && op.security.every((s) => 'bearer' in s)) lines.push(`-H "Authorization: Bearer $TOKEN"`);
  const [type, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
  if (type && media?.example !== undefined) {
    lines.push(`-H 'Content-Type: ${type}'`, `-d '${JSON.stringify(media.example).replace(/'/g, "'\\''")}'`);
  }
  return lines.join(' \\\n  ');
}

function operationBlock(method: string, path: string, op: OperationObject, doc: OpenApiDocument, base: string): Markup {
  const auth = op.security.some((s) => 'bearer' in s)
    ? op.security.some((s) => Object.keys(s).length === 0)
      ? 'Bearer token optional (it shows more)'
      : 'Bearer token required'
    : 'Public';
  const body = op.requestBody;
  const [bodyType, bodyMedia] = body ? (Object.entries(body.content)[0] ?? []) : [];
  return html`<article class="api-operation" id="${op.operationId}" aria-labelledby="${op.operationId}-title">
<h3 id="${op.operationId}-title"><span class="api-method api-method-${method}">${method.toUpperCase()}</span> <code class="api-path">${path}</code></h3>
<p class="api-summary">${op.summary}</p>
${op.description ? html`<p>${prose(op.description)}</p>` : ''}
<p class="api-auth">${auth}</p>
${
  // A WebSocket is not for curl: its frames are in the README.
  op.responses['101'] ? '' : html`<pre class="api-example api-curl" tabindex="0" aria-label="Example with curl"><code>${curl(method, path, op, base)}</code></pre>`
}
${
  op.parameters?.length
    ? html`<h4>Parameters</h4><table class="api-table">
<thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead>
<tbody>${op.parameters.map(
        (p) => html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${typeWithBounds(p.schema)}</td><td>${p.required ? 'yes' : 'no'}</td><td>${prose(p.description)}</td></tr>`,
      )}</tbody></table>`
    : ''
}
${
  body && bodyMedia
    ? html`<h4>Request body</h4><p><code>${bodyType}</code>, ${body.required ? 'required' : 'optional'}: ${typeOf(bodyMedia.schema)}</p>${
        body.description ? html`<p>${prose(body.description)}</p>` : ''
      }${propertiesTable(bodyMedia.schema, doc)}${example(bodyMedia.example, 'Example request', true)}`
    : ''
}
<h4>Responses</h4>
<dl class="api-responses">${Object.entries(op.responses).map(([status, response]) => {
    const media = Object.entries(response.content ?? {});
    return html`<dt><span class="api-status api-status-${status.charAt(0)}xx">${status}</span></dt><dd>${prose(response.description)}${
      media.length ? html` <span class="api-media">${media.map(([type, m], i) => html`${i ? ', ' : ''}<code>${type}</code>${
        refName(m.schema) || m.schema.anyOf ? html` ${typeOf(m.schema)}` : ''
      }`)}</span>` : ''
    }${response.headers ? html`<br><span class="api-bounds">Headers: ${Object.keys(response.headers).join(', ')}</span>` : ''}${
      example(media[0]?.[1].example, `Example ${status}`, status.startsWith('2'))
    }</dd>`;
  })}</dl>
</article>`;
}

function apiReferencePage(doc: OpenApiDocument, siteTitle: string): string {
  const byTag = new Map<string, { method: string; path: string; op: OperationObject }[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)?.push({ method, path, op });
    }
  }
  // Within a tag: by path, then reads before writes.
  const order = ['get', 'post', 'put', 'delete'];
  for (const list of byTag.values()) list.sort((a, b) => a.path.localeCompare(b.path) || order.indexOf(a.method) - order.indexOf(b.method));
  const tags = doc.tags.filter((tag) => byTag.has(tag.name));
  // Examples name the server when its address is configured, a local one otherwise.
  const server = doc.servers[0]?.url ?? '/';
  const base = /^https?:\/\//.test(server) ? server.replace(/\/+$/, '') : 'http://localhost:3000';
  return shell({
    siteTitle,
    title: `API reference · ${siteTitle}`,
    description: `The HTTP API of ${siteTitle}: newsroom writes, reads, feeds, live connections and probes.`,
    bodyClass: 'api-docs',
    stylesheets: ['site.css', 'api-docs.css'],
    body: html`<main id="main" class="api-reference">
<h1>API reference</h1>
<p class="api-lede">${prose(doc.info.description as string)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}, generated from the schemas the server validates with).</p>
<nav class="api-toc" aria-label="Operations">
<h2>Contents</h2>
<ul>${tags.map(
      (tag) => html`<li><a href="#tag-${slug(tag.name)}">${tag.name}</a><ul>${(byTag.get(tag.name) ?? []).map(
        ({ method, path, op }) => html`<li><a href="#${op.operationId}"><span class="api-method api-method-${method}">${method.toUpperCase()}</span> <code>${path}</code></a> ${op.summary}</li>`,
      )}</ul></li>`,
    )}<li><a href="#schemas">Schemas</a></li></ul>
</nav>
${tags.map(
  (tag) => html`<section class="api-tag" id="tag-${slug(tag.name)}" aria-labelledby="tag-${slug(tag.name)}-title">
<h2 id="tag-${slug(tag.name)}-title">${tag.name}</h2>
<p>${prose(tag.description)}</p>
${(byTag.get(tag.name) ?? []).map(({ method, path, op }) => operationBlock(method, path, op, doc, base))}
</section>`,
)}
<section class="api-tag" id="schemas" aria-labelledby="schemas-title">
<h2 id="schemas-title">Schemas</h2>
${Object.entries(doc.components.schemas).map(
  ([name, schema]) => html`<article class="api-schema" id="schema-${slug(name)}" aria-labelledby="schema-${slug(name)}-title">
<h3 id="schema-${slug(name)}-title">${name}</h3>
${schema.description ? html`<p>${prose(schema.description as string)}</p>` : ''}
${schema.properties ? propertiesTable(schema, doc) : html`<p>${typeOf(schema)}</p>`}
</article>`,
)}
</section>
</main>`,
    footer: html`<p><a href="/">${siteTitle}</a> · <a href="/openapi.json">OpenAPI document</a></p>`,
  });
}

/**
 * `GET /openapi.json` and `GET /docs/api`: both made once (and compressed
 * once) from the document, then sent in the coding each request accepts.
 */
export function apiDocsRoutes(doc: OpenApiDocument, siteTitle: string): Hono {
  const routes = new Hono();
  const json = compressOnce(Buffer.from(JSON.stringify(doc)));
  const page = compressOnce(Buffer.from(apiReferencePage(doc, siteTitle)));
  const send = async (c: Context, made: Promise<Compressed>, type: string) => {
    c.header('Content-Type', type);
    c.header('Cache-Control', 'public, max-age=300');
    return sendVariant(c, await made);
  };
  routes.get('/openapi.json', (c) => {
    // Public, like the routes it describes: tools on other origins may read it.
    c.header('Access-Control-Allow-Origin', '*');
    return send(c, json, 'application/json; charset=utf-8');
  });
  routes.get('/docs/api', (c) => send(c, page, 'text/html; charset=UTF-8'));
  return routes;
}
