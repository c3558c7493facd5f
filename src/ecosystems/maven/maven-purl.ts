/** The package URL of a Maven artifact (`pkg:maven/org.slf4j/slf4j-api@1.7.30`). */
export function mavenPurl(groupId: string, artifactId: string, version: string): string {
  return `pkg:maven/${encodeURIComponent(groupId)}/${encodeURIComponent(artifactId)}@${encodeURIComponent(version)}`;
}
