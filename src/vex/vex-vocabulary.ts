/** OpenVEX justifications (also CSAF VEX flag labels, which use the same words). */
export const OPENVEX_JUSTIFICATIONS: readonly string[] = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
];

/** CycloneDX impact analysis justifications. */
export const CYCLONEDX_JUSTIFICATIONS: readonly string[] = [
  'code_not_present',
  'code_not_reachable',
  'requires_configuration',
  'requires_dependency',
  'requires_environment',
  'protected_by_compiler',
  'protected_at_runtime',
  'protected_at_perimeter',
  'protected_by_mitigating_control',
];

const CDX_TO_OPENVEX: Readonly<Record<string, string>> = {
  code_not_present: 'vulnerable_code_not_present',
  code_not_reachable: 'vulnerable_code_not_in_execute_path',
  requires_configuration: 'vulnerable_code_cannot_be_controlled_by_adversary',
  requires_dependency: 'component_not_present',
  requires_environment: 'vulnerable_code_cannot_be_controlled_by_adversary',
  protected_by_compiler: 'inline_mitigations_already_exist',
  protected_at_runtime: 'inline_mitigations_already_exist',
  protected_at_perimeter: 'inline_mitigations_already_exist',
  protected_by_mitigating_control: 'inline_mitigations_already_exist',
};

const OPENVEX_TO_CDX: Readonly<Record<string, string>> = {
  component_not_present: 'code_not_present',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'protected_by_mitigating_control',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

/** A justification in OpenVEX words (for an OpenVEX export), whatever vocabulary it was imported in; null when none maps. */
export function toOpenVexJustification(justification: string | null): string | null {
  if (justification === null) return null;
  if (OPENVEX_JUSTIFICATIONS.includes(justification)) return justification;
  return CDX_TO_OPENVEX[justification] ?? null;
}

/** A justification in CycloneDX words (for a CycloneDX export); null when none maps. */
export function toCycloneDxJustification(justification: string | null): string | null {
  if (justification === null) return null;
  if (CYCLONEDX_JUSTIFICATIONS.includes(justification)) return justification;
  return OPENVEX_TO_CDX[justification] ?? null;
}
