import { z } from 'zod';
import { isDigest } from '../oci/digest.ts';
import { isRepositoryName, isTag } from '../registry/image-reference.ts';
import { HarborError } from './harbor-error.ts';
import { CONSUMED_TYPES, HARBOR_MEDIA_TYPES, SBOM_MEDIA_TYPES, VULNERABILITY_REPORT_TYPES, type HarborScanRequest } from './harbor-types.ts';
import { parseHttpUrl } from './registry-for-url.ts';
import { parseRegistryAuthorization } from './registry-credentials.ts';

const text = z.string().max(16 * 1024);
/** Pass 1: the JSON types only, every field optional (a wrong type is a 400, as the spec says). */
const shape = z.object({
  registry: z.object({ url: text.optional(), authorization: text.nullish(), insecure: z.boolean().nullish() }).nullish(),
  artifact: z
    .object({
      repository: text.optional(),
      digest: text.optional(),
      tag: text.nullish(),
      mime_type: text.nullish(),
      size: z.number().nullish(),
      namespace_id: z.number().nullish(),
    })
    .nullish(),
  enabled_capabilities: z
    .array(
      z.object({
        type: text,
        produces_mime_types: z.array(text).max(32).nullish(),
        parameters: z.object({ sbom_media_types: z.array(text).max(32).nullish() }).nullish(),
      }),
    )
    .max(16)
    .nullish(),
});

const SBOM_REPORT_TYPES: readonly string[] = [HARBOR_MEDIA_TYPES.sbomReport];

/**
 * Validates a Harbor `ScanRequest`: values of the wrong JSON type are a 400; a missing or invalid
 * field (registry URL, repository name, digest, tag, artifact media type, registry authorization
 * that is neither Basic nor Bearer) a 422; a capability, report type or SBOM format this adapter
 * does not produce a 501. Fields Harbor sends beyond the spec (`size`, `namespace_id`,
 * `insecure`) are accepted and ignored.
 */
export function parseHarborScanRequest(body: unknown): HarborScanRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HarborError(400, 'the scan request must be a JSON object');
  const parsed = shape.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HarborError(400, `${issue.path.join('.') || 'body'}: ${issue.code === 'invalid_type' ? `wrong type, expected ${String((issue as { expected?: unknown }).expected ?? 'another type')}` : issue.message}`);
  }
  const { registry, artifact, enabled_capabilities: capabilities } = parsed.data;
  if (!registry?.url) throw new HarborError(422, 'missing registry.url');
  if (parseHttpUrl(registry.url) === null) throw new HarborError(422, 'invalid registry.url: must be an http(s) URL');
  const authorization = registry.authorization?.trim() ? registry.authorization.trim() : null;
  if (authorization !== null && parseRegistryAuthorization(authorization) === null) throw new HarborError(422, 'invalid registry.authorization: must be Basic or Bearer credentials');
  if (!artifact?.repository) throw new HarborError(422, 'missing artifact.repository');
  if (!isRepositoryName(artifact.repository)) throw new HarborError(422, 'invalid artifact.repository');
  if (!artifact.digest) throw new HarborError(422, 'missing artifact.digest');
  if (!isDigest(artifact.digest)) throw new HarborError(422, 'invalid artifact.digest');
  const tag = artifact.tag ? artifact.tag : null;
  if (tag !== null && !isTag(tag)) throw new HarborError(422, 'invalid artifact.tag');
  const mimeType = artifact.mime_type ? artifact.mime_type : null;
  if (mimeType !== null && !(CONSUMED_TYPES as readonly string[]).includes(mimeType)) throw new HarborError(422, `unsupported artifact.mime_type ${JSON.stringify(mimeType.slice(0, 100))}`);

  const asked: HarborScanRequest['capabilities'] = [];
  for (const [i, c] of (capabilities ?? []).entries()) {
    if (c.type !== 'vulnerability' && c.type !== 'sbom') throw new HarborError(501, `enabled_capabilities.${i}.type ${JSON.stringify(c.type.slice(0, 40))} is not supported`);
    const produces = c.produces_mime_types ?? null;
    const allowed: readonly string[] = c.type === 'vulnerability' ? VULNERABILITY_REPORT_TYPES : SBOM_REPORT_TYPES;
    const unknown = produces?.find((t) => !allowed.includes(normalizeMediaType(t)));
    if (unknown !== undefined) throw new HarborError(501, `enabled_capabilities.${i}: report type ${JSON.stringify(unknown.slice(0, 100))} is not produced`);
    const sbom = c.parameters?.sbom_media_types ?? null;
    const badSbom = sbom?.find((t) => !(SBOM_MEDIA_TYPES as readonly string[]).includes(t));
    if (badSbom !== undefined) throw new HarborError(501, `enabled_capabilities.${i}: SBOM format ${JSON.stringify(badSbom.slice(0, 100))} is not produced`);
    asked.push({ type: c.type, producesMimeTypes: produces?.map(normalizeMediaType) ?? null, sbomMediaTypes: sbom });
  }
  return {
    registry: { url: registry.url, authorization },
    artifact: { repository: artifact.repository, digest: artifact.digest, tag, mimeType },
    capabilities: asked.length > 0 ? asked : [{ type: 'vulnerability', producesMimeTypes: null, sbomMediaTypes: null }, { type: 'sbom', producesMimeTypes: null, sbomMediaTypes: null }],
  };
}

/**
 * A media type with parameters as this adapter writes them: lower-case type, `; version=x`
 * with one space (Harbor is not consistent about the spacing).
 */
export function normalizeMediaType(value: string): string {
  const [type = '', ...params] = value.split(';').map((p) => p.trim());
  const rest = params.filter((p) => p !== '').map((p) => p.replace(/\s*=\s*/, '=').toLowerCase());
  return [type.toLowerCase(), ...rest].join('; ');
}
