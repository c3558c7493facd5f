/** Thrown for a string that is not a valid CVSS vector of the version being parsed; the message says why. */
export class InvalidCvssError extends Error {
  constructor(vector: string, reason: string) {
    super(`invalid CVSS vector ${JSON.stringify(vector.length > 200 ? `${vector.slice(0, 200)}…` : vector)}: ${reason}`);
    this.name = 'InvalidCvssError';
  }
}
