#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpora of the host fuzz harnesses (tests/fuzz/host/corpus/<name>/).

The seeds are committed; this script is how they were made, and remakes them:
    tests/fuzz/host/make_corpus.py
Each seed is a valid input of its parser, so that libFuzzer starts from real
structures: multiboot2 information as GRUB lays it out (BIOS and UEFI), ELF
kernels with multiboot1, multiboot2 and PVH headers, VMX memory operands,
xAPIC stores of every form, umbra command lines.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def align(n, a):
    return (n + a - 1) // a * a


# --- multiboot2 information (multiboot2 spec 1.0, 3.6) ------------------------
def mb2_tag(tag_type, payload):
    t = struct.pack("<II", tag_type, 8 + len(payload)) + payload
    return t + b"\0" * (align(len(t), 8) - len(t))


def mb2_info(tags):
    body = b"".join(tags) + mb2_tag(0, b"")
    return struct.pack("<II", 8 + len(body), 0) + body


def mb2_string(tag_type, s):
    return mb2_tag(tag_type, s.encode() + b"\0")


def mb2_mmap(entries, entry_size=24):
    payload = struct.pack("<II", entry_size, 0)
    for base, length, kind in entries:
        e = struct.pack("<QQII", base, length, kind, 0)
        payload += e + b"\0" * (entry_size - len(e))
    return mb2_tag(6, payload)


def mb2_module(start, end, cmdline):
    return mb2_tag(3, struct.pack("<II", start, end) + cmdline.encode() + b"\0")


def rsdp(revision):
    v1 = b"RSD PTR " + b"\0" + b"BOCHS " + bytes([revision]) + struct.pack("<I", 0x0FFE0000)
    if revision < 2:
        return v1
    return v1 + struct.pack("<IQ", 36, 0x0FFE1000) + b"\0\0\0\0"


BIOS_MAP = [
    (0, 0x9FC00, 1),
    (0x9FC00, 0x400, 2),
    (0xF0000, 0x10000, 2),
    (0x100000, 0xFEF0000, 1),
    (0xFFF0000, 0x10000, 3),
    (0xFFFC0000, 0x40000, 2),
    (0x100000000, 0x100000, 5),
]


def mb2_corpus():
    yield "minimal", mb2_info([])
    yield "grub_bios", mb2_info([
        mb2_string(1, "log=debug serial=com1"),
        mb2_string(2, "GRUB 2.06-13+deb12u1"),
        mb2_tag(4, struct.pack("<II", 639, 261056)),
        mb2_mmap(BIOS_MAP),
        mb2_module(0x800000, 0x812345, "test=smp_l2 cpus=2"),
        mb2_tag(14, rsdp(0)),
        mb2_tag(8, struct.pack("<QIIIBBH", 0xFD000000, 4096, 1024, 768, 32, 1, 0) + b"\0" * 8),
        mb2_tag(21, struct.pack("<I", 0x200000)),
    ])
    yield "grub_uefi", mb2_info([
        mb2_string(1, ""),
        mb2_string(2, "GRUB 2.06"),
        mb2_tag(12, struct.pack("<Q", 0x7FB8E018)),
        mb2_tag(11, struct.pack("<I", 0x7FB8E018)),
        mb2_mmap(BIOS_MAP[:2] + [(0x100000, 0x7F000000, 1), (0x100000000, 0x40000000, 1)], 32),
        mb2_tag(17, struct.pack("<II", 48, 1) + b"\0" * 48),
        mb2_tag(18, b""),
        mb2_tag(15, rsdp(2)),
        mb2_tag(14, rsdp(0)),
        mb2_module(0x1000000, 0x1400000, "vmlinux console=ttyS0"),
        mb2_module(0x1400000, 0x1C00000, "initrd.gz"),
    ])
    yield "many_ranges", mb2_info([
        mb2_string(1, "guest_mem=64M"),
        mb2_mmap([(i * 0x200000, 0x100000 + (i & 1) * 0x100000, 1 + (i % 3)) for i in range(40)]),
    ] + [mb2_module(0x2000000 + i * 0x1000, 0x2000800 + i * 0x1000, "m%d" % i) for i in range(17)])
    # Modules without command lines: the guest's multiboot1 module table outgrows a small buffer.
    yield "modules_no_cmdline", mb2_info([mb2_module(0x800000 + i * 0x10000, 0x800100 + i * 0x10000, "")
                                          for i in range(5)])
    # More entries than umbra keeps (MB2_MAX_MMAP), and command lines filling MB2_STRINGS_MAX.
    yield "long_map", mb2_info([mb2_mmap([(i * 0x100000, 0x80000, 1 + (i & 1)) for i in range(130)])])
    yield "strings_full", mb2_info([mb2_string(1, "x" * 8000), mb2_module(0x800000, 0x900000, "y" * 8383)])
    yield "strings_full_cmdline", mb2_info([mb2_module(0x800000, 0x900000, "y" * 8383), mb2_string(1, "x" * 8000)])


# --- ELF kernels (gABI 4.1) with multiboot/PVH headers --------------------------
def elf(is64, entry, phdrs, blobs, size):
    """phdrs: (type, offset, paddr, filesz, memsz); blobs: (offset, bytes)."""
    img = bytearray(size)
    ehsize, phentsize = (64, 56) if is64 else (52, 32)
    img[0:16] = b"\x7fELF" + bytes([2 if is64 else 1, 1, 1]) + b"\0" * 9
    if is64:
        img[16:64] = struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, ehsize, 0, 0, ehsize, phentsize,
                                 len(phdrs), 0, 0, 0)
    else:
        img[16:52] = struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, ehsize, 0, 0, ehsize, phentsize,
                                 len(phdrs), 0, 0, 0)
    for i, (ptype, off, pa, filesz, memsz) in enumerate(phdrs):
        at = ehsize + i * phentsize
        if is64:
            img[at:at + 56] = struct.pack("<IIQQQQQQ", ptype, 5, off, pa, pa, filesz, memsz, 0x1000)
        else:
            img[at:at + 32] = struct.pack("<IIIIIIII", ptype, off, pa, pa, filesz, memsz, 5, 0x1000)
    for off, blob in blobs:
        img[off:off + len(blob)] = blob
    return bytes(img)


def mb1_header(flags):
    return struct.pack("<III", 0x1BADB002, flags, (-(0x1BADB002 + flags)) & 0xFFFFFFFF)


def mb2_header(tags):
    body = b"".join(t + b"\0" * (align(len(t), 8) - len(t)) for t in tags) + struct.pack("<HHI", 0, 0, 8)
    length = 16 + len(body)
    return struct.pack("<IIII", 0xE85250D6, 0, length, (-(0xE85250D6 + length)) & 0xFFFFFFFF) + body


def mb2_htag(tag_type, flags, payload):
    return struct.pack("<HHI", tag_type, flags, 8 + len(payload)) + payload


def xen_note(desc):
    return struct.pack("<III", 4, len(desc), 18) + b"Xen\0" + desc


CODE = bytes([0xFA, 0xF4, 0xEB, 0xFD])  # cli; hlt; jmp $-3


def loader_corpus():
    text = 0x1000
    yield "mb1_elf32", elf(False, 0x100010, [(1, text, 0x100000, 0x200, 0x3000)],
                           [(text, mb1_header(3) + CODE)], 0x1200)
    # Multiboot 0.6.96 3.1.2: flag bit 3 is not one umbra understands (refused); bit 16 is optional.
    yield "mb1_unknown_flag", elf(False, 0x100010, [(1, text, 0x100000, 0x200, 0x200)],
                                  [(text, mb1_header(0x8) + CODE)], 0x1200)
    yield "mb1_optional_flag", elf(False, 0x100010, [(1, text, 0x100000, 0x200, 0x200)],
                                   [(text, mb1_header(0x10003) + CODE)], 0x1200)
    yield "mb2_elf32_tags", elf(False, 0x200000, [(1, text, 0x200000, 0x400, 0x400)], [(text, mb2_header([
        mb2_htag(1, 0, struct.pack("<III", 1, 6, 14)),
        mb2_htag(1, 1, struct.pack("<I", 5)),
        mb2_htag(3, 0, struct.pack("<I", 0x200100)),
        mb2_htag(4, 1, struct.pack("<I", 3)),
        mb2_htag(6, 1, b""),
        mb2_htag(5, 1, struct.pack("<III", 1024, 768, 32)),
    ])), (text + 0x100, CODE)], 0x1400)
    yield "mb2_elf64_two_segments", elf(True, 0x300000, [
        (1, text, 0x300000, 0x800, 0x800),
        (4, 0x800, 0, 0, 0),
        (1, text + 0x800, 0x380000, 0x100, 0x10000),
    ], [(text, mb2_header([mb2_htag(1, 0, struct.pack("<II", 4, 15))]) + CODE)], 0x1900)
    yield "pvh_elf64", elf(True, 0xFFFFFFFF81000000, [
        (4, 0x800, 0, 24, 24),
        (1, text, 0x100000, 0x800, 0x200000),
    ], [(0x800, xen_note(struct.pack("<I", 0x100040))), (text + 0x40, CODE)], 0x1800)
    yield "pvh_elf32_note8", elf(False, 0xC0100000, [
        (4, 0x800, 0, 0x2C, 0x2C),
        (1, text, 0x400000, 0x100, 0x100),
    ], [(0x800, struct.pack("<III", 4, 4, 1) + b"GNU\0" + b"abcd" + xen_note(struct.pack("<Q", 0x400000))),
        (text, CODE)], 0x1100)
    # A PVH note whose value is neither 4 nor 8 bytes.
    yield "pvh_note_desc6", elf(True, 0x100000, [(4, 0x800, 0, 24, 24), (1, text, 0x100000, 0x100, 0x100)],
                                [(0x800, xen_note(b"\x40\0\x10\0\0\0") + b"\0\0"), (text, CODE)], 0x1100)
    # LOADER_MAX_SEGMENTS loadable segments, a page each, and one more.
    for name, n in (("mb1_sixteen_segments", 16), ("mb1_seventeen_segments", 17)):
        yield name, elf(False, 0x100010, [(1, text, 0x100000 + i * 0x1000, 0x40, 0x1000) for i in range(n)],
                        [(text, mb1_header(1) + CODE)], 0x1040)


# --- VMX memory operands: tests/fuzz/host/fuzz_operand.c's record ---------------
def ii(scale, asize, seg, index, base):
    return (scale | asize << 7 | seg << 15 | (1 << 22 if index < 0 else index << 18) |
            (1 << 27 if base < 0 else base << 23))


def operand(info, disp, size, long_mode, gpr, seg_base=(0,) * 6, seg_limit=(0xFFFFFFFF,) * 6, usable=0x3F):
    gpr = list(gpr) + [0] * (16 - len(gpr))
    return (struct.pack("<IQBBB", info, disp, size - 1, long_mode, usable) + struct.pack("<16Q", *gpr) +
            struct.pack("<6Q", *seg_base) + struct.pack("<6I", *seg_limit))


def operand_corpus():
    yield "long_vmptrld_rax", operand(ii(0, 2, 3, -1, 0), 0, 8, 1, [0x7000])
    yield "long_fs_base_index", operand(ii(3, 2, 4, 6, 3), 0x18, 8, 1, [0, 0, 0, 0x10000, 0, 0, 0x20],
                                        seg_base=(0, 0, 0, 0, 0xFFFF800000000000, 0))
    yield "long_invept_desc", operand(ii(0, 2, 2, -1, 4), 0x10, 16, 1, [0, 0, 0, 0, 0x7FF0])
    yield "prot32_limit", operand(ii(2, 1, 3, 1, 0), 0x100, 4, 0, [0x1000, 0x10],
                                  seg_base=(0, 0, 0, 0x100000, 0, 0), seg_limit=(0xFFFF,) * 6)
    yield "prot32_addr16_ss", operand(ii(0, 0, 2, 6, 5), 0xFFFE, 8, 0, [0, 0, 0, 0, 0, 0x10, 0x4],
                                      seg_limit=(0xFFFF,) * 6, usable=0x3B)


# --- xAPIC stores: mode byte (0 32-bit, 1 64-bit, 2 16-bit) and the bytes ---------
INSN = {
    "m32_mov_ebx_eax": (0, "89 03"),
    "m32_mov_sib_disp32": (0, "89 84 24 00 03 e0 fe"),
    "m32_mov_imm_disp32": (0, "c7 05 b0 00 e0 fe 00 00 00 00"),
    "m32_mov_moffs": (0, "a3 80 03 e0 fe"),
    "m32_mov16_ds": (0, "3e 66 89 08"),
    "m32_mov_ah": (0, "88 20"),
    "m32_lock_xchg": (0, "f0 87 0b"),
    "m32_addr16_bp_si": (0, "67 89 42 10"),
    "m64_mov_rex_w": (1, "48 89 07"),
    "m64_mov_r15d_sib": (1, "44 89 3c 24"),
    "m64_mov_imm_disp32": (1, "c7 80 f0 00 00 00 ff 01 00 00"),
    "m64_mov_imm_sext": (1, "48 c7 40 08 00 00 00 80"),
    "m64_moffs64": (1, "48 a3 00 03 e0 fe 00 00 00 00"),
    "m64_rip_relative": (1, "89 05 f0 0f 00 00"),
    "m64_mov_sil": (1, "40 88 30"),
    "m64_gs_xchg8": (1, "65 86 04 25 20 00 e0 fe"),
    "m64_addr32": (1, "67 41 89 01"),
    "m16_rejected": (2, "89 07"),
}


def insn_corpus():
    for name, (mode, text) in INSN.items():
        yield name, bytes([mode]) + bytes.fromhex(text)


CMDLINES = {
    "defaults": "",
    "log_serial_cpus": "log=debug serial=com1,115200 cpus=2",
    "port_baud_options": "serial=0x2f8,9600 smp_timeout=500 exit=halt apic=x2apic guest_mem=512M",
    "stats_trace_selftest": "stats=full trace=4096 selftest=panic nested.shadow=off",
    "quoted_and_bad": 'log="info"\tunknown=1 cpus serial=none trace=0x10k guest_mem=all',
    "numbers": "guest_mem=0x20000000 trace=off stats=off log=4 cpus=0x10 apic=auto exit=poweroff",
}


def cmdline_corpus():
    for name, line in CMDLINES.items():
        yield name, line.encode()


def main():
    for name, gen in (("mb2", mb2_corpus), ("loader", loader_corpus), ("operand", operand_corpus),
                      ("insn", insn_corpus), ("cmdline", cmdline_corpus)):
        d = os.path.join(HERE, "corpus", name)
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):
            os.remove(os.path.join(d, old))
        for seed, data in gen():
            with open(os.path.join(d, seed), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
