/**
 * Binary packages that hold kernel headers, build files or sources rather than a kernel: they are
 * built from the kernel source package, so every kernel advisory names them, yet nothing in them
 * runs in a container (the host's kernel does). Kernel images themselves are not in the list: a
 * bootable image may carry a kernel that really boots.
 */
const KERNEL_HEADER_PACKAGES: Readonly<Record<string, readonly RegExp[]>> = {
  dpkg: [/^linux-libc-dev$/, /^linux(-[a-z0-9.]+)*-headers(-.+)?$/, /^linux-kbuild-.+$/, /^linux-source(-.+)?$/, /^linux-doc(-.+)?$/],
  rpm: [/^kernel(-[a-z0-9]+)*-headers$/, /^kernel(-[a-z0-9]+)*-devel(-matched)?$/, /^kernel-doc$/, /^kernel-abi-(stablelists|whitelists)$/],
  apk: [/^linux-headers$/, /^linux-[a-z0-9]+-dev$/],
};

/** Whether `name` (of an `ecosystem` package) is a kernel header/build package (see the list above). */
export function isKernelHeaderPackage(ecosystem: string, name: string): boolean {
  const patterns = KERNEL_HEADER_PACKAGES[ecosystem];
  return patterns !== undefined && patterns.some((re) => re.test(name));
}
