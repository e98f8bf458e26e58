import { InvalidArgumentError } from './errors.js';

/** An OCI platform. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** The platform this process runs on, in OCI terms. */
export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: process.platform === 'win32' ? 'windows' : process.platform, architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  return p;
}

/** Parses `os/arch[/variant]` (`linux/amd64`, `linux/arm/v7`); `arch` alone means linux. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.trim().toLowerCase().split('/');
  if (parts.some((p) => p === '') || parts.length > 3) {
    throw new InvalidArgumentError(`invalid platform ${JSON.stringify(spec)}: expected os/arch[/variant]`, { code: 'INVALID_PLATFORM' });
  }
  const [os, arch, variant] = parts.length === 1 ? ['linux', parts[0]!, undefined] : parts;
  const architecture = normalizeArch(arch!);
  const p: Platform = { os: os!, architecture };
  if (variant) p.variant = variant;
  else if (architecture === 'arm64') p.variant = 'v8';
  return p;
}

function normalizeArch(arch: string): string {
  switch (arch) {
    case 'x86_64':
    case 'x86-64':
      return 'amd64';
    case 'aarch64':
      return 'arm64';
    case 'i386':
      return '386';
    default:
      return arch;
  }
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Whether an image for `candidate` can serve a request for `wanted` (arm64 variant v8 is the default). */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false;
  const dv = wanted.architecture === 'arm64' ? 'v8' : undefined;
  return (wanted.variant ?? dv) === (candidate.variant ?? dv) || !wanted.variant;
}
