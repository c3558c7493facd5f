/** The package URL of a RubyGems gem (`pkg:gem/rake@13.0.3`, `pkg:gem/nokogiri@1.16.0?platform=x86_64-linux`). */
export function gemPurl(name: string, version: string, platform: string | null = null): string {
  const base = `pkg:gem/${encodeURIComponent(name)}@${encodeURIComponent(version)}`;
  return platform === null ? base : `${base}?platform=${encodeURIComponent(platform)}`;
}
