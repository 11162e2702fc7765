import { z } from 'zod';
import { ADMIN_API_PATH } from '../../oidc/admin-resource.js';
import type { AnyAdminRoute } from './route.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'throw',
  }) as JsonSchema;
  return rest;
}

/** Path and query parameters from an object schema, as OpenAPI parameter objects. */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

const ERROR = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string' },
    error_description: { type: 'string' },
    field: { type: 'string', description: 'The offending field (dotted path), on 400 and 409.' },
    problems: {
      type: 'array',
      description: "An import file's problems, each by line (null: the whole file).",
      items: {
        type: 'object',
        required: ['line', 'field', 'message'],
        properties: {
          line: { type: ['integer', 'null'] },
          field: { type: ['string', 'null'] },
          message: { type: 'string' },
        },
      },
    },
  },
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/**
 * The OpenAPI 3.1 document, built from the very schemas that validate each request and shape
 * each response (OpenAPI 3.1 schemas are JSON Schema 2020-12, what zod emits).
 */
export function buildOpenApiDocument(routes: AnyAdminRoute[], issuer: string, version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const operation: Record<string, unknown> = {
      operationId: `${route.method}${route.path.replace(/[/:-]+(\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: route.summary,
      tags: [route.tag],
      security: [{ bearer: [route.scope] }],
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      responses: {
        [route.status]: route.response
          ? { description: 'OK', content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } }
          : { description: 'Done; no content' },
        400: errorResponse('Bad input: `field` names the offending field'),
        401: errorResponse('No valid admin API access token'),
        403: errorResponse(`The token lacks ${route.scope} (or the user the admin role)`),
        ...(route.params ? { 404: errorResponse('Not found') } : {}),
        ...(route.conflicts ? { 409: errorResponse('Conflicts with what exists: `field` names it') } : {}),
        ...(route.body || route.textBody
          ? {
              415: errorResponse(
                route.textBody ? 'The body is not application/x-ndjson' : 'The body is not application/json',
              ),
            }
          : {}),
      },
    };
    if (route.body)
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
      };
    if (route.textBody) {
      operation.requestBody = {
        required: true,
        content: {
          'application/x-ndjson': {
            schema: { type: 'string', description: 'One JSON object per line (docs/import.md)' },
          },
        },
      };
    }
    paths[path] = { ...paths[path], [route.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse admin API',
      version,
      description:
        "Manage clients, users, roles, sessions, signing keys, connections to upstream identity providers and the audit log. Authenticate with a Gatehouse access token for the admin API resource: client_credentials with scope admin:read or admin:write, or an admin user's token from the admin console client.",
    },
    servers: [{ url: `${issuer}${ADMIN_API_PATH}` }],
    components: {
      schemas: { Error: ERROR },
      securitySchemes: {
        bearer: {
          type: 'oauth2',
          flows: {
            clientCredentials: {
              tokenUrl: `${issuer}/token`,
              scopes: { 'admin:read': 'Read everything', 'admin:write': 'Change everything (includes admin:read)' },
            },
          },
        },
      },
    },
    paths,
  };
}
