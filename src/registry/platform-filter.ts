import type { Platform } from './parse-manifest.ts';

/** Which platforms to keep from an index: `os` (or `*`), optionally an architecture and a variant. */
export interface PlatformFilter {
  os: string;
  architecture?: string;
  variant?: string;
}

/** The default selection: every linux platform. */
export const LINUX_PLATFORMS: readonly PlatformFilter[] = Object.freeze([{ os: 'linux' }]);

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' };

/**
 * Parses `os[/arch[/variant]]` (`linux`, `linux/arm64`, `linux/arm/v7`) or `*` (any platform).
 * Throws a RangeError for anything else.
 */
export function parsePlatformFilter(text: string): PlatformFilter {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.*-]{1,64}$/.test(p))) {
    throw new RangeError(`invalid platform ${JSON.stringify(text.slice(0, 80))}: expected os[/arch[/variant]]`);
  }
  const filter: PlatformFilter = { os: parts[0]! };
  if (parts[1] !== undefined) filter.architecture = normalizeArchitecture(parts[1]);
  if (parts[2] !== undefined) filter.variant = parts[2];
  return filter;
}

/** True when `platform` is selected by one of `filters` (architecture aliases and default variants understood). */
export function platformMatches(platform: Platform, filters: readonly PlatformFilter[]): boolean {
  const os = platform.os.toLowerCase();
  const arch = normalizeArchitecture(platform.architecture);
  const variant = normalizeVariant(arch, platform.variant);
  return filters.some(
    (f) =>
      (f.os === '*' || f.os === os) &&
      (f.architecture === undefined || f.architecture === '*' || f.architecture === arch) &&
      (f.variant === undefined || f.variant === '*' || normalizeVariant(arch, f.variant) === variant),
  );
}

/** `os/arch[/variant]`, as people write platforms. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter((p) => p !== undefined && p !== '').join('/');
}

function normalizeArchitecture(arch: string): string {
  const lower = arch.toLowerCase();
  return ARCH_ALIASES[lower] ?? lower;
}

function normalizeVariant(arch: string, variant: string | undefined): string {
  const v = (variant ?? '').toLowerCase();
  if (arch === 'arm64' && (v === '' || v === '8')) return 'v8';
  if (arch === 'arm' && v === '') return 'v7';
  return v;
}
