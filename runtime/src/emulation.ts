/**
 * Which platforms this host can run: its own, and foreign ones a binfmt_misc
 * handler (QEMU user emulation) takes over. Checked the way BuildKit checks
 * (util/archutil/detect.go SupportedPlatforms, check_unix.go check): a tiny
 * static binary of the architecture is run chrooted into an otherwise empty
 * directory. It starts only if the kernel has a handler for it that was
 * registered with the fix-binary flag (F: the emulator is opened at
 * registration, so it need not exist inside a container's root filesystem).
 * BuildKit embeds Go-built test binaries; tsbuild writes a minimal ELF whose
 * three instructions call exit(0), one per architecture it knows.
 *
 * A RUN for a platform that fails the check gets `platformNotRunnable`'s
 * message — how to enable it — instead of the runtime's "exec format error".
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailedPreconditionError, formatPlatform, hostPlatform, type Platform } from '@tsbuild/core';

const BINFMT_MISC = '/proc/sys/fs/binfmt_misc';

export type PlatformSupport =
  | { runnable: true; how: 'native' | 'emulated' | 'unchecked' }
  | { runnable: false; why: 'no-handler' | 'no-fix-binary' | 'failed'; detail: string };

interface ElfArch {
  bits: 32 | 64;
  bigEndian: boolean;
  machine: number;
  flags: number;
  /** exit(0) in the architecture's Linux syscall convention. */
  code: number[];
  /** The Debian qemu-user-static binfmt name (/usr/lib/binfmt.d/qemu-NAME.conf). */
  qemu: string;
}

const le32 = (...words: number[]): number[] => words.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24]);
const be32 = (...words: number[]): number[] => words.flatMap((w) => [w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff]);

/** Each verified with `qemu-ARCH-static ./check; echo $?` (0). */
const ARCHES: Record<string, ElfArch> = {
  // xor edi,edi; mov eax,60; syscall
  amd64: { bits: 64, bigEndian: false, machine: 62, flags: 0, code: [0x31, 0xff, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05], qemu: 'x86_64' },
  // xor ebx,ebx; mov eax,1; int 0x80
  '386': { bits: 32, bigEndian: false, machine: 3, flags: 0, code: [0x31, 0xdb, 0xb8, 1, 0, 0, 0, 0xcd, 0x80], qemu: 'i386' },
  // mov x0,#0; mov x8,#93; svc #0
  arm64: { bits: 64, bigEndian: false, machine: 183, flags: 0, code: le32(0xd2800000, 0xd2800ba8, 0xd4000001), qemu: 'aarch64' },
  // mov r0,#0; mov r7,#1; svc 0 (EABI 5)
  arm: { bits: 32, bigEndian: false, machine: 40, flags: 0x05000000, code: le32(0xe3a00000, 0xe3a07001, 0xef000000), qemu: 'arm' },
  // li a0,0; li a7,93; ecall
  riscv64: { bits: 64, bigEndian: false, machine: 243, flags: 0, code: le32(0x00000513, 0x05d00893, 0x00000073), qemu: 'riscv64' },
  // li r0,1; li r3,0; sc (ELFv2: the entry is code, not a function descriptor)
  ppc64le: { bits: 64, bigEndian: false, machine: 21, flags: 2, code: le32(0x38000001, 0x38600000, 0x44000002), qemu: 'ppc64le' },
  ppc64: { bits: 64, bigEndian: true, machine: 21, flags: 2, code: be32(0x38000001, 0x38600000, 0x44000002), qemu: 'ppc64' },
  // lghi %r2,0; svc 1
  s390x: { bits: 64, bigEndian: true, machine: 22, flags: 0, code: [0xa7, 0x29, 0, 0, 0x0a, 0x01], qemu: 's390x' },
};

/** A static ELF executable: header, one loadable segment (the whole file), the code right after the headers. */
export function exitElf(arch: string): Buffer | undefined {
  const a = ARCHES[arch];
  if (!a) return undefined;
  const is64 = a.bits === 64;
  const ehsize = is64 ? 64 : 52;
  const phsize = is64 ? 56 : 32;
  const base = 0x10000;
  const size = ehsize + phsize + a.code.length;
  const b = Buffer.alloc(size);
  const u16 = (v: number, o: number) => (a.bigEndian ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const u32 = (v: number, o: number) => (a.bigEndian ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const addr = (v: number, o: number) => (is64 ? (a.bigEndian ? b.writeBigUInt64BE(BigInt(v), o) : b.writeBigUInt64LE(BigInt(v), o)) : u32(v, o));
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, a.bigEndian ? 2 : 1, 1]).copy(b, 0);
  u16(2, 16); // ET_EXEC
  u16(a.machine, 18);
  u32(1, 20);
  const w = is64 ? 8 : 4;
  addr(base + ehsize + phsize, 24); // e_entry
  addr(ehsize, 24 + w); // e_phoff
  addr(0, 24 + 2 * w); // e_shoff
  const f = 24 + 3 * w;
  u32(a.flags, f);
  u16(ehsize, f + 4);
  u16(phsize, f + 6);
  u16(1, f + 8); // e_phnum
  const p = ehsize;
  u32(1, p); // PT_LOAD
  if (is64) {
    u32(5, p + 4); // R+X
    addr(0, p + 8);
    addr(base, p + 16);
    addr(base, p + 24);
    addr(size, p + 32);
    addr(size, p + 40);
    addr(0x1000, p + 48);
  } else {
    addr(0, p + 4);
    addr(base, p + 8);
    addr(base, p + 12);
    addr(size, p + 16);
    addr(size, p + 20);
    u32(5, p + 24);
    u32(0x1000, p + 28);
  }
  Buffer.from(a.code).copy(b, ehsize + phsize);
  return b;
}

/** The architectures tsbuild has a test binary for, with their Debian qemu-user-static names (`aarch64`). */
export const CHECKED_ARCHES: ReadonlyMap<string, string> = new Map(Object.entries(ARCHES).map(([arch, a]) => [arch, a.qemu]));

/** The 32-bit architecture a 64-bit kernel may run without emulation. */
const COMPAT: Record<string, string> = { amd64: '386', arm64: 'arm' };

const checked = new Map<string, Promise<PlatformSupport>>();

/**
 * Whether a process of `platform` can run here. Linux only; the host's own
 * architecture is native; an architecture tsbuild has no test binary for is
 * `unchecked` (the runtime's own error stands). A result is remembered for
 * the process's life, as BuildKit remembers its list (CacheMaxAge).
 */
export function platformSupport(platform: Platform): Promise<PlatformSupport> {
  const host = hostPlatform();
  if (platform.os !== 'linux' || platform.architecture === host.architecture) return Promise.resolve({ runnable: true, how: 'native' });
  let found = checked.get(platform.architecture);
  if (!found) checked.set(platform.architecture, (found = check(platform.architecture)));
  return found;
}

async function check(arch: string): Promise<PlatformSupport> {
  const elf = exitElf(arch);
  if (!elf) return { runnable: true, how: 'unchecked' };
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-qemu-check-'));
  try {
    await writeFile(join(dir, 'check'), elf);
    await chmod(join(dir, 'check'), 0o700);
    const { code, stderr } = await run('chroot', [dir, '/check']);
    if (code === 0) return { runnable: true, how: 'emulated' };
    // chroot(8) reports ENOENT either way (execvp retries an ENOEXEC file with /bin/sh, absent here), so the
    // registered handler tells the two causes apart, as BuildKit's printPlatformWarning words them.
    const handler = await readHandler(ARCHES[arch]!.qemu);
    if (handler?.enabled && !handler.flags.includes('F')) return { runnable: false, why: 'no-fix-binary', detail: stderr };
    return { runnable: false, why: handler?.enabled ? 'failed' : 'no-handler', detail: stderr || `exit ${code}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The Debian-named binfmt_misc entry (`qemu-aarch64`), if registered: `enabled` and its flags (`flags: OCF`). */
async function readHandler(qemu: string): Promise<{ enabled: boolean; flags: string } | undefined> {
  const text = await readFile(join(BINFMT_MISC, `qemu-${qemu}`), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return { enabled: /^enabled$/m.test(text), flags: /^flags: *(\S*)$/m.exec(text)?.[1] ?? '' };
}

function run(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => resolve({ code: -1, stderr: err.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr: stderr.trim() }));
  });
}

/**
 * The error for a platform the host cannot run, saying exactly how to enable
 * it here (Debian's qemu-user-static; no systemd needed: its binfmt.d lines,
 * which carry the F flag, are written to binfmt_misc's register file).
 */
export function platformNotRunnable(platform: Platform, support: Extract<PlatformSupport, { runnable: false }>): FailedPreconditionError {
  const name = formatPlatform(platform);
  const qemu = ARCHES[platform.architecture]?.qemu ?? platform.architecture;
  const conf = `/usr/lib/binfmt.d/qemu-${qemu}.conf`;
  const register = `mountpoint -q ${BINFMT_MISC} || mount -t binfmt_misc binfmt_misc ${BINFMT_MISC}; cat ${conf} > ${BINFMT_MISC}/register`;
  const how = support.why === 'no-fix-binary'
    ? `its binfmt_misc handler lacks the fix-binary (F) flag; register it again with it: echo -1 > ${BINFMT_MISC}/qemu-${qemu}; ${register}`
    : support.why === 'failed'
      ? `its test binary failed: ${support.detail}`
      : COMPAT[hostPlatform().architecture] === platform.architecture && !existsSync(conf)
        // Debian ships no qemu-i386 line on amd64: the kernel itself runs 32-bit x86 (and arm64 kernels 32-bit arm), when built to.
        ? `the kernel runs them natively only with its 32-bit compatibility enabled (CONFIG_IA32_EMULATION or CONFIG_COMPAT, boot parameter ia32_emulation=1)`
        : `no binfmt_misc handler runs its binaries; enable QEMU emulation for it (as root): apt-get install qemu-user-static; ${register}`;
  return new FailedPreconditionError(`this host cannot run ${name} programs: ${how}`, { code: 'PLATFORM_NOT_RUNNABLE' });
}
