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
      suppressed: {
        name: 'suppressed',
        in: 'query',
        schema: { enum: ['include', 'exclude'] },
        description: 'include: the findings a VEX statement or an exception suppressed are kept, in report.suppressedFindings, each with its suppression (by, id, status, justification, reason, author, expires). They never count in the summary.',
      },
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
      Advisory: {
        type: 'object',
        required: ['id', 'affected'],
        additionalProperties: false,
        description: 'An operator advisory, matched like feed data (findings show source.updater "custom").',
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' },
          aliases: { type: 'array', maxItems: 50, items: { type: 'string' } },
          summary: { type: 'string', maxLength: 512 },
          description: { type: 'string', maxLength: 8192 },
          severity: { enum: ['Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'], description: 'Any case; taken from cvss when absent.' },
          cvss: { type: 'array', maxItems: 4, items: { type: 'string' }, description: 'CVSS v2, v3.x or v4 vectors.' },
          links: { type: 'array', maxItems: 32, items: { type: 'string', format: 'uri' } },
          published: { type: 'string', format: 'date-time' },
          affected: {
            type: 'array',
            minItems: 1,
            maxItems: 100,
            items: {
              type: 'object',
              required: ['ecosystem', 'package'],
              description: 'Exactly one of ranges, fixedVersion or state.',
              properties: {
                ecosystem: { enum: ['dpkg', 'rpm', 'apk', 'pypi', 'npm', 'go', 'maven', 'gem'] },
                distribution: { type: 'string', examples: ['alpine:3.19', 'debian:bookworm', 'debian:12', 'rhel:9'], description: 'Required for dpkg, rpm and apk; absent for language ecosystems.' },
                package: { type: 'string' },
                packageKind: { enum: ['binary', 'source'], description: 'Default: source for OS packages, binary otherwise.' },
                arch: { type: 'string' },
                repository: { type: 'string' },
                module: { type: 'string', description: 'rpm module stream (name:stream).' },
                ranges: { type: 'array', items: { type: 'object', properties: { events: { type: 'array', items: { type: 'object', description: 'One of {introduced}, {fixed}, {last_affected}, {limit}: a version of the ecosystem ("0" for introduced: from the first).' } } } } },
                fixedVersion: { type: 'string', description: 'Every version before this one is affected.' },
                state: { enum: ['not_fixed', 'will_not_fix', 'fix_deferred', 'end_of_life', 'under_investigation'], description: 'No version fixes it (yet).' },
              },
            },
          },
        },
      },
      NewException: {
        type: 'object',
        required: ['vulnerability', 'reason', 'expires'],
        additionalProperties: false,
        properties: {
          vulnerability: { type: 'string', examples: ['CVE-2026-1234'] },
          package: { type: 'string', description: 'Only findings of this package (binary or source name).' },
          repository: { type: 'string', description: 'Only images in repositories matching this glob (team/*).' },
          image: { type: 'string', description: 'Only this image (digest).' },
          reason: { type: 'string', maxLength: 2000 },
          author: { type: 'string', description: 'Required when the credentials name no subject; otherwise the subject is the author.' },
          expires: { type: 'string', format: 'date-time', description: 'In the future, at most exceptions.maxDurationDays away.' },
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
          report: {
            description:
              'The vulnerability report once the status is done (summary, packages, findings with package, version, layer, vulnerability id and aliases, state, fixed version, severities, CVSS, EPSS, KEV, links; remediation: the package upgrades that fix them, the smallest version fixing all of a package\u2019s fixable findings, what each removes by severity, the share a plain update fixes, and whether the base image or the image\u2019s own layers bring them; suppressedFindings with ?suppressed=include).',
            type: ['object', 'null'],
          },
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
          { $ref: '#/components/parameters/suppressed' },
          {
            name: 'format',
            in: 'query',
            schema: { enum: ['json', 'sarif', 'cyclonedx', 'html', 'openvex', 'cyclonedx-vex'] },
            description: 'openvex and cyclonedx-vex export the report as VEX, with the VEX and exception decisions (suppressed findings always included).',
          },
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
    '/api/v1/advisories': {
      get: {
        summary: 'Operator advisories (any authenticated caller)',
        parameters: [
          { name: 'state', in: 'query', schema: { enum: ['active', 'all'] } },
          { name: 'after', in: 'query', schema: { type: 'string' }, description: 'An advisory id from the previous page.' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 } },
        ],
        responses: { 200: { description: '{items, next}' } },
      },
      post: {
        summary: 'Add an advisory (full access only); ?format=osv takes an OSV record or a list of them (all or nothing; withdrawn records withdraw)',
        parameters: [{ name: 'format', in: 'query', schema: { enum: ['lookout', 'osv'] } }],
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Advisory' } } } },
        responses: {
          201: { description: '{advisory, applied}: stored and applied as a run of the custom feed (notifications as for a feed update)' },
          200: { description: 'OSV import: {counts: {added, changed, unchanged, withdrawn}, applied}' },
          400: { description: 'Invalid advisory (the message names the field)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          403: { description: 'The caller may not read every repository' },
          409: { description: 'The id exists, or advisories.maxAdvisories is reached' },
        },
      },
    },
    '/api/v1/advisories/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { summary: 'One advisory', responses: { 200: { description: 'The advisory with its revision, state and history' }, 404: { description: 'Unknown' } } },
      put: { summary: 'Change (or reinstate) an advisory (full access only)', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Advisory' } } } }, responses: { 200: { description: '{advisory, applied}' }, 400: { description: 'Invalid' }, 404: { description: 'Unknown' } } },
      delete: { summary: 'Withdraw an advisory: its findings go away (resolved notifications)', responses: { 200: { description: '{advisory, applied}' }, 404: { description: 'Unknown or already withdrawn' } } },
    },
    '/api/v1/vex': {
      get: { summary: 'Imported VEX documents, newest first (full access only)', parameters: [{ name: 'before', in: 'query', schema: { type: 'string' } }, { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 200 } }], responses: { 200: { description: '{items, next}' } } },
      post: {
        summary: 'Import a VEX document: OpenVEX, CycloneDX VEX or CSAF 2.0 VEX (full access only)',
        description: 'not_affected and fixed statements suppress the findings they name (image by OCI purl or digest, package by purl); under_investigation sets the state; affected adds its action statement. Importing the same document (format, id, scope) again replaces it.',
        parameters: [
          { name: 'image', in: 'query', schema: { type: 'string' }, description: 'Apply to this image (digest) only.' },
          { name: 'repository', in: 'query', schema: { type: 'string' }, description: 'Apply to images in repositories matching this glob only.' },
          { name: 'format', in: 'query', schema: { enum: ['openvex', 'cyclonedx', 'csaf'] }, description: 'Default: told from the document.' },
        ],
        requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
        responses: {
          201: { description: '{document, replaced, skipped, skippedCount, reportsInvalidated}' },
          400: { description: 'Malformed: the message starts with the position (a JSON pointer, or line and column)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          403: { description: 'The caller may not read every repository' },
          413: { description: 'Over server.bodyLimitBytes or vex.maxDocumentBytes' },
        },
      },
    },
    '/api/v1/vex/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { summary: 'One VEX document and its statements (full access only)', responses: { 200: { description: '{document, statements}' }, 404: { description: 'Unknown' } } },
      delete: { summary: 'Delete a VEX document: its statements stop applying (full access only)', responses: { 204: { description: 'Deleted' }, 404: { description: 'Unknown' } } },
    },
    '/api/v1/exceptions': {
      get: { summary: 'Exceptions (full access only)', parameters: [{ name: 'state', in: 'query', schema: { enum: ['active', 'expired', 'deleted', 'all'] } }, { name: 'vulnerability', in: 'query', schema: { type: 'string' } }, { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 1000 } }], responses: { 200: { description: '{items}' } } },
      post: {
        summary: 'Accept a finding until a date (full access only)',
        description: 'Matching findings leave the summary counts and notifications (they stay in reports with ?suppressed=include). When the exception expires, the findings come back and subscriptions with the exception-expired event hear of it once.',
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/NewException' } } } },
        responses: { 201: { description: 'The exception' }, 400: { description: 'Invalid (the message names the field)' }, 403: { description: 'The caller may not read every repository' } },
      },
    },
    '/api/v1/exceptions/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      get: { summary: 'One exception (full access only)', responses: { 200: { description: 'The exception' }, 404: { description: 'Unknown' } } },
      delete: { summary: 'End an exception early (full access only)', responses: { 204: { description: 'Deleted' }, 404: { description: 'Unknown or already deleted' } } },
    },
    '/api/v1/notifications/{id}/retry': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      post: { summary: 'Re-drive a dead delivery (same webhook-id, fresh attempts)', responses: { 202: { description: 'Pending again', content: { 'application/json': { schema: { $ref: '#/components/schemas/Delivery' } } } }, 404: { description: 'Unknown or not the caller’s' }, 409: { description: 'Not dead' } } },
    },
  },
} as const;
