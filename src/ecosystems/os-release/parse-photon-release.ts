/**
 * Parses `etc/photon-release` (`VMware Photon OS 3.0` / `VMware Photon Linux 1.0` followed by
 * `PHOTON_BUILD_NUMBER=…`): the release as `major.minor`, or null when the file does not say it.
 */
export function parsePhotonRelease(text: string): { versionId: string; prettyName: string } | null {
  const first = text.split('\n').map((l) => l.trim()).find((l) => l !== '');
  if (first === undefined) return null;
  const m = /photon\s+(?:os|linux)\s+(\d+\.\d+)/i.exec(first);
  return m ? { versionId: m[1] as string, prettyName: first } : null;
}
