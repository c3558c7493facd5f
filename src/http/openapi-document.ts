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
      NewSubscription: {
        type: 'object',
        required: ['name', 'repositories', 'channel'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' },
          registry: { type: 'string', description: 'A configured registry name; absent = all.' },
          repositories: { type: 'array', maxItems: 50, items: { type: 'string' }, description: 'Exact names, prefix/* or globs (team/**).' },
          channel: {
            oneOf: [
              { type: 'object', required: ['type', 'recipients'], properties: { type: { const: 'email' }, recipients: { type: 'array', items: { type: 'string', format: 'email' }, maxItems: 50 } } },
              { type: 'object', required: ['type', 'url'], properties: { type: { enum: ['webhook', 'clair'] }, url: { type: 'string', format: 'uri' }, secret: { type: 'string', minLength: 16 } } },
            ],
          },
          minSeverity: { enum: ['Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'] },
          events: { type: 'array', items: { enum: ['new-image', 'newly-affected', 'fix-available', 'resolved', 'exception-expired'] } },
        },
      },
      Subscription: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          name: { type: 'string' },
          origin: { enum: ['config', 'api'] },
          owner: { type: ['string', 'null'] },
          registry: { type: ['string', 'null'] },
          repositories: { type: 'array', items: { type: 'string' } },
          coveredRepositories: { type: ['array', 'null'], items: { type: 'string' }, description: 'The repositories it is limited to; null = no limit.' },
          channel: { type: 'object' },
          signed: { type: 'boolean' },
          secret: { type: 'string', description: 'Only in the 201 answer, when generated.' },
          minSeverity: { type: 'string' },
          events: { type: 'array', items: { type: 'string' } },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      Delivery: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          subscriptionId: { type: 'string', format: 'uuid' },
          subscriptionName: { type: 'string' },
          channel: { enum: ['email', 'webhook', 'clair'] },
          state: { enum: ['pending', 'delivering', 'delivered', 'dead'] },
          attempts: { type: 'integer' },
          nextAttemptAt: { type: 'string', format: 'date-time' },
          lastError: { type: ['string', 'null'] },
          createdAt: { type: 'string', format: 'date-time' },
          lastAttemptAt: { type: ['string', 'null'], format: 'date-time' },
          deliveredAt: { type: ['string', 'null'], format: 'date-time' },
          notificationCount: { type: 'integer' },
        },
      },
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
    '/api/v1/subscriptions': {
      get: { summary: 'Subscriptions the caller may see (its own; every one with an API key)', responses: { 200: { description: '{items: Subscription[]}' } } },
      post: {
        summary: 'Subscribe to notifications about repositories the caller may read',
        description:
          'With a registry token the subscription covers the repositories the token may pull that the patterns match; with registry-delegate auth, patterns are exact names, each checked with the registry. Webhook URLs must be on an origin in notifier.allowedWebhookOrigins. A generated webhook secret is returned once.',
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/NewSubscription' } } } },
        responses: {
          201: { description: 'Created (with `secret` when one was generated)', headers: { Location: { schema: { type: 'string' } } }, content: { 'application/json': { schema: { $ref: '#/components/schemas/Subscription' } } } },
          400: { description: 'Invalid subscription', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          403: { description: 'No repository the caller may read, or a webhook origin not allowed' },
          409: { description: 'Too many subscriptions for this owner' },
        },
      },
    },
    '/api/v1/subscriptions/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      get: { summary: 'One subscription (never its secret)', responses: { 200: { description: 'The subscription', content: { 'application/json': { schema: { $ref: '#/components/schemas/Subscription' } } } }, 404: { description: 'Unknown or not the caller’s' } } },
      delete: { summary: 'Delete a subscription', responses: { 204: { description: 'Deleted' }, 404: { description: 'Unknown or not the caller’s' }, 409: { description: 'Defined in the configuration file' } } },
    },
    '/api/v1/notifications': {
      get: {
        summary: 'Deliveries of the caller’s subscriptions, newest first (the dead-letter queue with state=dead)',
        parameters: [
          { name: 'state', in: 'query', schema: { enum: ['pending', 'delivering', 'delivered', 'dead'] } },
          { name: 'subscription', in: 'query', schema: { type: 'string', format: 'uuid' } },
          { name: 'before', in: 'query', schema: { type: 'string', format: 'uuid' }, description: 'A delivery id from the previous page.' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200 } },
        ],
        responses: { 200: { description: '{items: Delivery[], next}' }, 400: { description: 'Bad state or limit' } },
      },
    },
    '/api/v1/notifications/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      get: { summary: 'One delivery', responses: { 200: { description: 'The delivery', content: { 'application/json': { schema: { $ref: '#/components/schemas/Delivery' } } } }, 404: { description: 'Unknown or not the caller’s' } } },
    },
    '/api/v1/notifications/{id}/retry': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      post: { summary: 'Re-drive a dead delivery (same webhook-id, fresh attempts)', responses: { 202: { description: 'Pending again', content: { 'application/json': { schema: { $ref: '#/components/schemas/Delivery' } } } }, 404: { description: 'Unknown or not the caller’s' }, 409: { description: 'Not dead' } } },
    },
  },
} as const;
