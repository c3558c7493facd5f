/** One loadable ELF segment: file bytes [offset, offset + fileSize) appear at [vaddr, vaddr + fileSize). */
export interface ElfSegment {
  offset: number;
  vaddr: number;
  fileSize: number;
}

const PT_LOAD = 1;

/**
 * The `PT_LOAD` segments of an ELF file, read from its first bytes (`head`), or null when `head`
 * is not an ELF header or does not hold the whole program header table. Never throws.
 */
export function readElfLoadMap(head: Buffer): ElfSegment[] | null {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return null;
  const is64 = head[4] === 2;
  const little = head[5] !== 2;
  const u16 = (at: number): number => (little ? head.readUInt16LE(at) : head.readUInt16BE(at));
  const u32 = (at: number): number => (little ? head.readUInt32LE(at) : head.readUInt32BE(at));
  const u64 = (at: number): number => Number(little ? head.readBigUInt64LE(at) : head.readBigUInt64BE(at));
  try {
    const phoff = is64 ? u64(0x20) : u32(0x1c);
    const phentsize = is64 ? u16(0x36) : u16(0x2a);
    const phnum = is64 ? u16(0x38) : u16(0x2c);
    if (phentsize < (is64 ? 56 : 32) || phoff + phentsize * phnum > head.length) return null;
    const segments: ElfSegment[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (u32(at) !== PT_LOAD) continue;
      segments.push(
        is64
          ? { offset: u64(at + 8), vaddr: u64(at + 16), fileSize: u64(at + 32) }
          : { offset: u32(at + 4), vaddr: u32(at + 8), fileSize: u32(at + 16) },
      );
    }
    return segments;
  } catch {
    return null;
  }
}

/** The file offset holding virtual address `vaddr`, or null when no loaded segment has it in the file. */
export function elfFileOffset(segments: readonly ElfSegment[], vaddr: number): number | null {
  for (const segment of segments) {
    if (vaddr >= segment.vaddr && vaddr < segment.vaddr + segment.fileSize) return segment.offset + (vaddr - segment.vaddr);
  }
  return null;
}
