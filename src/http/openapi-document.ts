/** The native API, described for clients (`GET /api/v1/openapi.json`). */
export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Lookout API',
    version: '1',
    description:
      'Security status of container images pushed to the registries Lookout watches. Authenticate with the same token your registry gives you (`Authorization: Bearer <jwt>`); you see exactly the repositories you may pull.',
  },
  components: {
    securitySchemes: { registryToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    parameters: {
      digest: { name: 'digest', in: 'path', required: true, schema: { type: 'string', pattern: '^sha(256|512):[a-f0-9]+$' } },
      severity: { name: 'severity', in: 'query', schema: { type: 'string' }, description: 'Comma-separated severities to keep: Unknown, Negligible, Low, Medium, High, Critical.' },
      fixable: { name: 'fixable', in: 'query', schema: { type: 'boolean' }, description: 'true: only findings with a fixed version; false: only those without.' },
    },
    schemas: {
      Error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
      ImageStatus: {
        type: 'object',
        required: ['digest', 'mediaType', 'kind', 'status', 'repositories'],
        properties: {
          digest: { type: 'string' },
          mediaType: { type: 'string' },
          kind: { enum: ['image', 'index', 'artifact'] },
          status: { enum: ['queued', 'indexing', 'matching', 'done', 'failed', 'skipped', 'deleted'] },
          statusReason: { type: ['string', 'null'] },
          statusChangedAt: { type: 'string', format: 'date-time' },
          firstSeenAt: { type: 'string', format: 'date-time' },
          lastSeenAt: { type: 'string', format: 'date-time' },
          indexedAt: { type: ['string', 'null'], format: 'date-time' },
          platform: { type: ['object', 'null'] },
          repositories: { type: 'array', items: { type: 'object', properties: { registry: { type: 'string' }, repository: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } } } },
          report: { description: 'The vulnerability report once the status is done (summary, packages, findings with package, version, layer, vulnerability id and aliases, state, fixed version, severities, CVSS, EPSS, KEV, links).', type: ['object', 'null'] },
          manifests: { type: 'array', description: 'For an index: the status of each platform image.', items: { $ref: '#/components/schemas/ImageStatus' } },
        },
      },
    },
  },
  security: [{ registryToken: [] }],
  paths: {
    '/api/v1/images/{digest}': {
      get: {
        summary: "An image's security status and findings",
        parameters: [
          { $ref: '#/components/parameters/digest' },
          { $ref: '#/components/parameters/severity' },
          { $ref: '#/components/parameters/fixable' },
          { name: 'format', in: 'query', schema: { enum: ['json', 'sarif', 'cyclonedx', 'html'] } },
          { name: 'wait', in: 'query', schema: { type: 'number', maximum: 60 }, description: 'With If-None-Match: hold the request until the status changes or this many seconds pass.' },
          { name: 'If-None-Match', in: 'header', schema: { type: 'string' } },
        ],
        responses: {
          200: { description: 'The status', headers: { ETag: { schema: { type: 'string' } } }, content: { 'application/json': { schema: { $ref: '#/components/schemas/ImageStatus' } } } },
          304: { description: 'Unchanged since the ETag given' },
          400: { description: 'Bad digest or filter', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          401: { description: 'No or invalid token; WWW-Authenticate says where to get one' },
          404: { description: 'Unknown, or in no repository the caller may read', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
      },
    },
    '/api/v1/repositories/{name}/tags/{tag}': {
      get: {
        summary: 'Where a tag points now, and that image’s status',
        parameters: [
          { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'Repository name; may contain slashes.' },
          { name: 'tag', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'registry', in: 'query', schema: { type: 'string' } },
        ],
        responses: { 200: { description: 'The tag and its image' }, 404: { description: 'Unknown tag' } },
      },
    },
    '/api/v1/images': {
      get: {
        summary: 'Images the caller may read, newest first',
        parameters: [
          { name: 'repository', in: 'query', schema: { type: 'string' } },
          { name: 'tag', in: 'query', schema: { type: 'string' } },
          { $ref: '#/components/parameters/severity' },
          { name: 'cursor', in: 'query', schema: { type: 'integer' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 200 } },
        ],
        responses: { 200: { description: '{items, next}' } },
      },
    },
    '/api/v1/scans': {
      post: {
        summary: 'Scan an image of a configured registry now',
        requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['image'], properties: { image: { type: 'string', examples: ['registry.example.internal/team/app:1.2'] } } } } } },
        responses: { 202: { description: 'Queued; poll the status URL', headers: { Location: { schema: { type: 'string' } } } }, 400: { description: 'Bad reference or registry not configured' } },
      },
    },
  },
} as const;
