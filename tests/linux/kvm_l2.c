// SPDX-License-Identifier: BSD-2-Clause
/* A /dev/kvm user: runs a real-mode L2 that exits in a loop and checks every exit. */
/*
 * Runs in the test payload's initramfs, under Linux/KVM as L1 (directly on
 * Bochs, or under umbra). Each case loads one piece of 16-bit code into a
 * 64 KiB memory slot at guest-physical 0, runs it from its entry point and
 * checks what reaches user space (KVM_EXIT_IO, KVM_EXIT_MMIO, KVM_EXIT_HLT)
 * and the registers and memory it leaves behind. Output, one line each:
 *   TEST kvm_l2.<case> PASS|FAIL <detail>
 *   BENCH kvm_l1.<cpuid|io>.cycles_per_l2_exit.<label> <value> cycles
 *   SUMMARY passed=N failed=N skipped=N
 *
 * usage: kvm_l2 [--label L] [--cpuid N] [--io N] [--vcpus N]
 *        kvm_l2 --shutdown     end Bochs (writes "Shutdown" to port 0x8900)
 *
 * --vcpus N (N > 1): N L2s at once, the one of CPU i in a process of its
 * own pinned to that CPU (KVM then runs one L2 vCPU on each L1 CPU); the
 * cases of CPU i > 0 are named kvm_l2.cpu<i>.<case>, their BENCH labels
 * <label>_cpu<i>, and SUMMARY counts every CPU's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define L2_MEM_SIZE 0x10000u   /* the one memory slot: [0, 64 KiB) */
#define L2_CODE 0x1000u        /* where the code blob goes */
#define L2_MMIO_BASE 0x20000u  /* no slot there: accesses exit as MMIO */
#define L2_SUM_SRC 0x8000u     /* the memory case sums 4 KiB from here ... */
#define L2_SUM_LEN 0x1000u
#define L2_FILL_DST 0x9000u    /* ... and writes 2048 words from here */
#define L2_FILL_WORDS 0x800u
#define L2_OUT_PORT 0x10
#define L2_IN_PORT 0x11
#define L2_IN_COUNT 16
/* Where KVM may put its real-mode TSS when unrestricted guest is off (as QEMU does). */
#define L2_TSS_ADDR 0xfffbd000ul
#define BOCHS_SHUTDOWN_PORT 0x8900

/*
 * The L2 code: 16-bit real mode, position-independent (relative jumps,
 * absolute data addresses only), each case ends with HLT.
 */
extern const uint8_t l2_blob[], l2_blob_end[];
extern const uint8_t l2_cpuid[], l2_out[], l2_in[], l2_hlt[], l2_mmio[], l2_mem[];
__asm__(".pushsection .rodata.l2, \"a\"\n"
	".code16\n"
	"l2_blob:\n"
	/* cpuid: ESI times CPUID leaf EDI, in-kernel exits only. */
	"l2_cpuid:\n"
	"1:	mov %edi, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	dec %esi\n"
	"	jnz 1b\n"
	"	hlt\n"
	/* out: OUT of the low byte of the count down, ESI times, each a user-space exit. */
	"l2_out:\n"
	"1:	mov %si, %ax\n"
	"	out %al, $0x10\n"
	"	dec %esi\n"
	"	jnz 1b\n"
	"	hlt\n"
	/* in: 16 INs, summed into BX. */
	"l2_in:\n"
	"	xor %bx, %bx\n"
	"	xor %ah, %ah\n"
	"	mov $16, %cx\n"
	"1:	in $0x11, %al\n"
	"	add %ax, %bx\n"
	"	loop 1b\n"
	"	hlt\n"
	/* hlt: two HLTs with a register write between them. */
	"l2_hlt:\n"
	"	hlt\n"
	"	mov $0x1234, %ax\n"
	"	hlt\n"
	/* mmio: byte and word writes and a byte read at 0x20000 (DS=0x2000), result in AL. */
	"l2_mmio:\n"
	"	mov $0x2000, %ax\n"
	"	mov %ax, %ds\n"
	"	movb $0x5a, (0x10)\n"
	"	movw $0xbeef, (0x30)\n"
	"	mov (0x20), %al\n"
	"	xor %bx, %bx\n"
	"	mov %bx, %ds\n"
	"	hlt\n"
	/* mem: sum 4 KiB of bytes into EDX, write word i ^ 0x5555 at 0x9000 + 2i. */
	"l2_mem:\n"
	"	xor %edx, %edx\n"
	"	mov $0x8000, %si\n"
	"	mov $0x1000, %cx\n"
	"1:	movzbl (%si), %eax\n"
	"	add %eax, %edx\n"
	"	inc %si\n"
	"	loop 1b\n"
	"	mov $0x9000, %di\n"
	"	xor %bx, %bx\n"
	"2:	mov %bx, %ax\n"
	"	xor $0x5555, %ax\n"
	"	mov %ax, (%di)\n"
	"	add $2, %di\n"
	"	inc %bx\n"
	"	cmp $0x800, %bx\n"
	"	jne 2b\n"
	"	hlt\n"
	"l2_blob_end:\n"
	".code64\n"
	".popsection\n");

struct l2 {
	int kvm, vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	struct kvm_cpuid_entry2 leaf0; /* what KVM was told CPUID leaf 0 returns */
};

static int n_pass, n_fail, n_skip;
static char case_prefix[16]; /* "cpu<i>." in the process of CPU i > 0 */

static void verdict(const char *name, int ok, const char *fmt, ...)
{
	char detail[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("TEST kvm_l2.%s%s %s %s\n", case_prefix, name, ok ? "PASS" : "FAIL", detail);
	fflush(stdout);
	if (ok)
		n_pass++;
	else
		n_fail++;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static const char *exit_name(uint32_t r)
{
	static char buf[32];

	switch (r) {
	case KVM_EXIT_IO: return "IO";
	case KVM_EXIT_HLT: return "HLT";
	case KVM_EXIT_MMIO: return "MMIO";
	case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	default: snprintf(buf, sizeof(buf), "%u", r); return buf;
	}
}

/* Why the last KVM_RUN stopped, for a FAIL line. */
static const char *describe_exit(const struct l2 *g)
{
	static char buf[128];
	const struct kvm_run *r = g->run;

	if (r->exit_reason == KVM_EXIT_FAIL_ENTRY)
		snprintf(buf, sizeof(buf), "exit FAIL_ENTRY hw reason %#llx",
			 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
	else if (r->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		snprintf(buf, sizeof(buf), "exit INTERNAL_ERROR suberror %u", r->internal.suberror);
	else
		snprintf(buf, sizeof(buf), "exit %s", exit_name(r->exit_reason));
	return buf;
}

static int l2_create(struct l2 *g)
{
	struct kvm_userspace_memory_region slot = { 0 };
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[128];
	} cpuid;
	int run_size;

	memset(g, 0, sizeof(*g));
	g->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm < 0)
		return verdict("open", 0, "/dev/kvm: %s", strerror(errno)), -1;
	if (ioctl(g->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return verdict("open", 0, "KVM API version is not %d", KVM_API_VERSION), -1;
	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	if (g->vm < 0)
		return verdict("create_vm", 0, "KVM_CREATE_VM: %s", strerror(errno)), -1;
	/* Needed when KVM runs real mode as vm86 (unrestricted_guest=0); harmless otherwise. */
	if (ioctl(g->vm, KVM_SET_TSS_ADDR, L2_TSS_ADDR) < 0)
		return verdict("create_vm", 0, "KVM_SET_TSS_ADDR: %s", strerror(errno)), -1;
	g->mem = mmap(NULL, L2_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED)
		return verdict("create_vm", 0, "mmap: %s", strerror(errno)), -1;
	slot.memory_size = L2_MEM_SIZE;
	slot.userspace_addr = (uintptr_t)g->mem;
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return verdict("create_vm", 0, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno)), -1;
	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	if (g->vcpu < 0)
		return verdict("create_vcpu", 0, "KVM_CREATE_VCPU: %s", strerror(errno)), -1;
	run_size = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		return verdict("create_vcpu", 0, "KVM_GET_VCPU_MMAP_SIZE: %d", run_size), -1;
	g->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
	if (g->run == MAP_FAILED)
		return verdict("create_vcpu", 0, "mmap kvm_run: %s", strerror(errno)), -1;
	/* The guest's CPUID is what KVM supports; leaf 0 is kept to check the L2's answers. */
	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.h.nent = 128;
	if (ioctl(g->kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0)
		return verdict("create_vcpu", 0, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno)), -1;
	for (uint32_t i = 0; i < cpuid.h.nent; i++)
		if (cpuid.e[i].function == 0)
			g->leaf0 = cpuid.e[i];
	if (ioctl(g->vcpu, KVM_SET_CPUID2, &cpuid) < 0)
		return verdict("create_vcpu", 0, "KVM_SET_CPUID2: %s", strerror(errno)), -1;
	memcpy(g->mem + L2_CODE, l2_blob, (size_t)(l2_blob_end - l2_blob));
	verdict("create", 1, "VM, 64 KiB slot, one vCPU");
	return 0;
}

/* Real mode at the case's entry, segments 0, EFLAGS reserved bit only. */
static int l2_enter(struct l2 *g, const uint8_t *entry, const struct kvm_regs *init)
{
	struct kvm_sregs s;
	struct kvm_regs r = *init;

	if (ioctl(g->vcpu, KVM_GET_SREGS, &s) < 0)
		return -1;
	s.cs.base = 0, s.cs.selector = 0;
	s.ds.base = 0, s.ds.selector = 0;
	s.es.base = 0, s.es.selector = 0;
	s.ss.base = 0, s.ss.selector = 0;
	s.cr0 &= ~1ull; /* PE off: real mode */
	if (ioctl(g->vcpu, KVM_SET_SREGS, &s) < 0)
		return -1;
	r.rip = L2_CODE + (uint64_t)(entry - l2_blob);
	r.rflags = 2;
	r.rsp = 0x7000;
	return ioctl(g->vcpu, KVM_SET_REGS, &r);
}

static int l2_run(struct l2 *g)
{
	return ioctl(g->vcpu, KVM_RUN, 0);
}

static uint64_t rip_of(const uint8_t *label, unsigned after)
{
	return L2_CODE + (uint64_t)(label - l2_blob) + after;
}

static void case_cpuid(struct l2 *g, unsigned n, const char *label)
{
	struct kvm_regs r = { .rsi = n, .rdi = 0 };
	uint64_t t0, t1;

	if (l2_enter(g, l2_cpuid, &r) < 0)
		return verdict("cpuid", 0, "cannot set registers: %s", strerror(errno));
	t0 = rdtsc();
	if (l2_run(g) < 0)
		return verdict("cpuid", 0, "KVM_RUN: %s", strerror(errno));
	t1 = rdtsc();
	if (g->run->exit_reason != KVM_EXIT_HLT)
		return verdict("cpuid", 0, "expected HLT after %u CPUIDs, got %s", n, describe_exit(g));
	ioctl(g->vcpu, KVM_GET_REGS, &r);
	if (r.rsi != 0 || (uint32_t)r.rbx != g->leaf0.ebx || (uint32_t)r.rcx != g->leaf0.ecx ||
	    (uint32_t)r.rdx != g->leaf0.edx)
		return verdict("cpuid", 0, "leaf 0 ebx/ecx/edx %#x/%#x/%#x, expected %#x/%#x/%#x, esi %llu",
			       (uint32_t)r.rbx, (uint32_t)r.rcx, (uint32_t)r.rdx, g->leaf0.ebx, g->leaf0.ecx,
			       g->leaf0.edx, (unsigned long long)r.rsi);
	verdict("cpuid", 1, "%u CPUID exits, leaf 0 answers as KVM_SET_CPUID2 said", n);
	printf("BENCH kvm_l1.cpuid.cycles_per_l2_exit.%s %llu cycles\n", label,
	       (unsigned long long)((t1 - t0) / n));
}

static void case_out(struct l2 *g, unsigned n, const char *label)
{
	struct kvm_regs r = { .rsi = n };
	unsigned seen = 0;
	uint64_t t0, t1;

	if (l2_enter(g, l2_out, &r) < 0)
		return verdict("io_out", 0, "cannot set registers: %s", strerror(errno));
	t0 = rdtsc();
	for (;;) {
		const struct kvm_run *k = g->run;
		uint8_t data;

		if (l2_run(g) < 0)
			return verdict("io_out", 0, "KVM_RUN: %s after %u exits", strerror(errno), seen);
		if (k->exit_reason == KVM_EXIT_HLT)
			break;
		if (k->exit_reason != KVM_EXIT_IO)
			return verdict("io_out", 0, "after %u OUTs: %s", seen, describe_exit(g));
		data = *((const uint8_t *)k + k->io.data_offset);
		if (k->io.direction != KVM_EXIT_IO_OUT || k->io.port != L2_OUT_PORT || k->io.size != 1 ||
		    k->io.count != 1 || data != (uint8_t)(n - seen))
			return verdict("io_out", 0, "exit %u: dir %u port %#x size %u count %u data %#x, "
				       "expected OUT %#x size 1 data %#x", seen, k->io.direction,
				       k->io.port, k->io.size, k->io.count, data, L2_OUT_PORT,
				       (uint8_t)(n - seen));
		seen++;
	}
	t1 = rdtsc();
	if (seen != n)
		return verdict("io_out", 0, "%u OUT exits, expected %u", seen, n);
	verdict("io_out", 1, "%u OUT exits to user space, port and data checked", n);
	printf("BENCH kvm_l1.io.cycles_per_l2_exit.%s %llu cycles\n", label,
	       (unsigned long long)((t1 - t0) / n));
}

static void case_in(struct l2 *g)
{
	struct kvm_regs r = { 0 };
	unsigned seen = 0, sum = 0;

	if (l2_enter(g, l2_in, &r) < 0)
		return verdict("io_in", 0, "cannot set registers: %s", strerror(errno));
	for (;;) {
		struct kvm_run *k = g->run;
		uint8_t v = (uint8_t)(seen * 37 + 11);

		if (l2_run(g) < 0)
			return verdict("io_in", 0, "KVM_RUN: %s", strerror(errno));
		if (k->exit_reason == KVM_EXIT_HLT)
			break;
		if (k->exit_reason != KVM_EXIT_IO || k->io.direction != KVM_EXIT_IO_IN ||
		    k->io.port != L2_IN_PORT || k->io.size != 1)
			return verdict("io_in", 0, "after %u INs: %s dir %u port %#x", seen, describe_exit(g),
				       k->io.direction, k->io.port);
		*((uint8_t *)k + k->io.data_offset) = v;
		sum += v;
		seen++;
	}
	ioctl(g->vcpu, KVM_GET_REGS, &r);
	if (seen != L2_IN_COUNT || (uint16_t)r.rbx != sum)
		return verdict("io_in", 0, "%u IN exits (expected %u), sum %#x (expected %#x)", seen,
			       L2_IN_COUNT, (unsigned)(uint16_t)r.rbx, sum);
	verdict("io_in", 1, "%u IN exits, the L2 summed the values user space gave", seen);
}

static void case_hlt(struct l2 *g)
{
	struct kvm_regs r = { .rax = 0 };

	if (l2_enter(g, l2_hlt, &r) < 0)
		return verdict("hlt", 0, "cannot set registers: %s", strerror(errno));
	if (l2_run(g) < 0 || g->run->exit_reason != KVM_EXIT_HLT)
		return verdict("hlt", 0, "first HLT: %s", describe_exit(g));
	ioctl(g->vcpu, KVM_GET_REGS, &r);
	if (r.rip != rip_of(l2_hlt, 1) || (uint16_t)r.rax != 0)
		return verdict("hlt", 0, "after the first HLT rip %#llx ax %#x, expected rip %#llx ax 0",
			       (unsigned long long)r.rip, (unsigned)(uint16_t)r.rax,
			       (unsigned long long)rip_of(l2_hlt, 1));
	if (l2_run(g) < 0 || g->run->exit_reason != KVM_EXIT_HLT)
		return verdict("hlt", 0, "second HLT: %s", describe_exit(g));
	ioctl(g->vcpu, KVM_GET_REGS, &r);
	if (r.rip != rip_of(l2_hlt, 5) || (uint16_t)r.rax != 0x1234)
		return verdict("hlt", 0, "after the second HLT rip %#llx ax %#x, expected rip %#llx ax 0x1234",
			       (unsigned long long)r.rip, (unsigned)(uint16_t)r.rax,
			       (unsigned long long)rip_of(l2_hlt, 5));
	verdict("hlt", 1, "two HLT exits, RIP past each, the L2 ran between them");
}

/* One MMIO exit: check it, and answer a read with `answer`. */
static int expect_mmio(struct l2 *g, uint64_t pa, unsigned len, int write, uint32_t wdata, uint8_t answer,
		       char *why, size_t whylen)
{
	struct kvm_run *k = g->run;
	uint32_t d = 0;

	if (l2_run(g) < 0 || k->exit_reason != KVM_EXIT_MMIO) {
		snprintf(why, whylen, "expected MMIO at %#llx, got %s", (unsigned long long)pa, describe_exit(g));
		return -1;
	}
	memcpy(&d, k->mmio.data, k->mmio.len < 4 ? k->mmio.len : 4);
	if (k->mmio.phys_addr != pa || k->mmio.len != len || k->mmio.is_write != write ||
	    (write && d != wdata)) {
		snprintf(why, whylen, "MMIO %s %#llx len %u data %#x, expected %s %#llx len %u data %#x",
			 k->mmio.is_write ? "write" : "read", (unsigned long long)k->mmio.phys_addr,
			 k->mmio.len, d, write ? "write" : "read", (unsigned long long)pa, len, wdata);
		return -1;
	}
	if (!write)
		k->mmio.data[0] = answer;
	return 0;
}

static void case_mmio(struct l2 *g)
{
	struct kvm_regs r = { 0 };
	char why[160];

	if (l2_enter(g, l2_mmio, &r) < 0)
		return verdict("mmio", 0, "cannot set registers: %s", strerror(errno));
	if (expect_mmio(g, L2_MMIO_BASE + 0x10, 1, 1, 0x5a, 0, why, sizeof(why)) < 0 ||
	    expect_mmio(g, L2_MMIO_BASE + 0x30, 2, 1, 0xbeef, 0, why, sizeof(why)) < 0 ||
	    expect_mmio(g, L2_MMIO_BASE + 0x20, 1, 0, 0, 0xa5, why, sizeof(why)) < 0)
		return verdict("mmio", 0, "%s", why);
	if (l2_run(g) < 0 || g->run->exit_reason != KVM_EXIT_HLT)
		return verdict("mmio", 0, "expected HLT after the MMIO accesses, got %s", describe_exit(g));
	ioctl(g->vcpu, KVM_GET_REGS, &r);
	if ((uint8_t)r.rax != 0xa5)
		return verdict("mmio", 0, "the L2 read %#x from MMIO, user space answered 0xa5",
			       (unsigned)(uint8_t)r.rax);
	verdict("mmio", 1, "byte and word writes and a byte read at unmapped %#x", L2_MMIO_BASE);
}

static void case_mem(struct l2 *g)
{
	struct kvm_regs r = { 0 };
	uint32_t sum = 0;

	for (unsigned i = 0; i < L2_SUM_LEN; i++) {
		g->mem[L2_SUM_SRC + i] = (uint8_t)(i * 13 + 5);
		sum += (uint8_t)(i * 13 + 5);
	}
	memset(g->mem + L2_FILL_DST, 0, 2 * L2_FILL_WORDS);
	if (l2_enter(g, l2_mem, &r) < 0)
		return verdict("mem", 0, "cannot set registers: %s", strerror(errno));
	if (l2_run(g) < 0 || g->run->exit_reason != KVM_EXIT_HLT)
		return verdict("mem", 0, "expected HLT, got %s", describe_exit(g));
	ioctl(g->vcpu, KVM_GET_REGS, &r);
	if ((uint32_t)r.rdx != sum)
		return verdict("mem", 0, "the L2 summed %#x, expected %#x", (uint32_t)r.rdx, sum);
	for (unsigned i = 0; i < L2_FILL_WORDS; i++) {
		uint16_t w;

		memcpy(&w, g->mem + L2_FILL_DST + 2 * i, 2);
		if (w != (uint16_t)(i ^ 0x5555))
			return verdict("mem", 0, "word %u at %#x is %#x, expected %#x", i, L2_FILL_DST + 2 * i,
				       w, i ^ 0x5555);
	}
	verdict("mem", 1, "the L2 read 4 KiB user space wrote and wrote 4 KiB user space read back");
}

/* Bochs ends when the bytes of "Shutdown" reach its port 0x8900 (docs/linux.md). */
static int bochs_shutdown(void)
{
	const char *s = "Shutdown";

	/* The console's output is still in the UART driver's buffer: let it reach the port. */
	fflush(stdout);
	tcdrain(STDOUT_FILENO);
	if (ioperm(BOCHS_SHUTDOWN_PORT, 1, 1) < 0) {
		perror("ioperm");
		return 1;
	}
	while (*s)
		outb((uint8_t)*s++, BOCHS_SHUTDOWN_PORT);
	return 0;
}

/* Every case on one L2 (counted in n_pass, n_fail, n_skip). */
static void run_cases(const char *label, unsigned n_cpuid, unsigned n_io)
{
	struct l2 g;

	if (l2_create(&g) == 0) {
		case_hlt(&g);
		case_mem(&g);
		case_in(&g);
		case_mmio(&g);
		case_out(&g, n_io, label);
		case_cpuid(&g, n_cpuid, label);
	} else {
		n_skip += 6; /* the cases that could not run */
	}
}

static int pin_to_cpu(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * CPU i > 0: a child pinned there runs the cases and sends its three
 * counts back through a pipe. Returns the child's pid, or -1 (a FAIL line).
 */
static pid_t start_cpu(unsigned cpu, const char *label, unsigned n_cpuid, unsigned n_io, int *rfd)
{
	int fd[2];
	pid_t pid;

	if (pipe(fd) < 0 || (pid = fork()) < 0) {
		verdict("smp", 0, "cannot start the process of CPU %u: %s", cpu, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		char cpu_label[64];
		int counts[3];

		close(fd[0]);
		snprintf(case_prefix, sizeof(case_prefix), "cpu%u.", cpu);
		snprintf(cpu_label, sizeof(cpu_label), "%s_cpu%u", label, cpu);
		if (pin_to_cpu(cpu) < 0)
			verdict("smp", 0, "sched_setaffinity to CPU %u: %s", cpu, strerror(errno));
		else
			run_cases(cpu_label, n_cpuid, n_io);
		counts[0] = n_pass, counts[1] = n_fail, counts[2] = n_skip;
		_exit(write(fd[1], counts, sizeof(counts)) == sizeof(counts) ? 0 : 1);
	}
	close(fd[1]);
	*rfd = fd[0];
	return pid;
}

int main(int argc, char **argv)
{
	const char *label = "bare";
	unsigned n_cpuid = 20000, n_io = 5000, vcpus = 1;
	pid_t pids[8];
	int rfds[8];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--shutdown"))
			return bochs_shutdown();
		if (i + 1 >= argc) {
			fprintf(stderr, "kvm_l2: %s needs a value\n", argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "--label"))
			label = argv[++i];
		else if (!strcmp(argv[i], "--cpuid"))
			n_cpuid = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--io"))
			n_io = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--vcpus"))
			vcpus = (unsigned)strtoul(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "kvm_l2: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (!n_cpuid || !n_io || !vcpus || vcpus > 8) {
		fprintf(stderr, "kvm_l2: counts must be at least 1, --vcpus 1 to 8\n");
		return 2;
	}
	for (unsigned c = 1; c < vcpus; c++)
		pids[c] = start_cpu(c, label, n_cpuid, n_io, &rfds[c]);
	if (vcpus > 1 && pin_to_cpu(0) < 0)
		verdict("smp", 0, "sched_setaffinity to CPU 0: %s", strerror(errno));
	run_cases(label, n_cpuid, n_io);
	for (unsigned c = 1; c < vcpus; c++) {
		int counts[3], status = 0;

		if (pids[c] < 0)
			continue;
		if (read(rfds[c], counts, sizeof(counts)) == sizeof(counts)) {
			n_pass += counts[0], n_fail += counts[1], n_skip += counts[2];
		} else {
			verdict("smp", 0, "the process of CPU %u sent no counts", c);
		}
		waitpid(pids[c], &status, 0);
	}
	printf("SUMMARY passed=%d failed=%d skipped=%d\n", n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;
}
