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

/**
 * containerd's platforms.Normalize for the architecture and variant
 * (platforms/database.go normalizeArch): arm64's v8, amd64's v1 are dropped,
 * a bare arm is arm/v7. BuildKit normalizes target and build platforms before
 * it derives the automatic platform ARGs (dockerui attr.go, config.go).
 */
export function normalizePlatform(p: Platform): Platform {
  const { variant: _, ...rest } = p;
  let variant = p.variant;
  if (p.architecture === 'arm64' && (variant === 'v8' || variant === '8' || variant === 'v8.0')) variant = undefined;
  else if (p.architecture === 'arm64' && (variant === '9' || variant === '9.0' || variant === 'v9.0')) variant = 'v9';
  else if (p.architecture === 'amd64' && variant === 'v1') variant = undefined;
  else if (p.architecture === '386') variant = undefined;
  else if (p.architecture === 'arm' && (variant === undefined || variant === '7')) variant = 'v7';
  else if (p.architecture === 'arm' && (variant === '5' || variant === '6' || variant === '8')) variant = `v${variant}`;
  return variant ? { ...rest, variant } : rest;
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
