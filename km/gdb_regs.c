/*
 * The registers gdb sees: a target description of x86-64 (general, x87,
 * SSE, AVX when the guest has it, fs_base) and their values, taken from
 * where km holds a stopped thread's context: the vCPU's registers, the
 * exception frame of a trap, or a syscall entry's rcx and r11.
 */
#include <stdio.h>
#include <string.h>

#include "gdb.h"

#define XSAVE_YMM_OFFSET 576 /* the standard format's AVX component */
#define XFEATURE_FP (1ull << 0)
#define XFEATURE_SSE (1ull << 1)
#define XFEATURE_YMM (1ull << 2)

enum reg_kind { GPR, RIP, EFLAGS, SEG, ST, FPCTL, XMM, MXCSR, ORIG_RAX, FS_BASE, GS_BASE, YMMH };

struct reg {
	const char *name;
	int bits;
	enum reg_kind kind;
	int index;
};

static const struct reg regs[] = {
	{ "rax", 64, GPR, 0 },	  { "rbx", 64, GPR, 1 },    { "rcx", 64, GPR, 2 },
	{ "rdx", 64, GPR, 3 },	  { "rsi", 64, GPR, 4 },    { "rdi", 64, GPR, 5 },
	{ "rbp", 64, GPR, 6 },	  { "rsp", 64, GPR, 7 },    { "r8", 64, GPR, 8 },
	{ "r9", 64, GPR, 9 },	  { "r10", 64, GPR, 10 },   { "r11", 64, GPR, 11 },
	{ "r12", 64, GPR, 12 },	  { "r13", 64, GPR, 13 },   { "r14", 64, GPR, 14 },
	{ "r15", 64, GPR, 15 },	  { "rip", 64, RIP, 0 },    { "eflags", 32, EFLAGS, 0 },
	{ "cs", 32, SEG, KM_SEL_UCODE }, { "ss", 32, SEG, KM_SEL_UDATA }, { "ds", 32, SEG, KM_SEL_UDATA },
	{ "es", 32, SEG, KM_SEL_UDATA }, { "fs", 32, SEG, KM_SEL_UDATA }, { "gs", 32, SEG, KM_SEL_UDATA },
	{ "st0", 80, ST, 0 },	  { "st1", 80, ST, 1 },	    { "st2", 80, ST, 2 },
	{ "st3", 80, ST, 3 },	  { "st4", 80, ST, 4 },	    { "st5", 80, ST, 5 },
	{ "st6", 80, ST, 6 },	  { "st7", 80, ST, 7 },	    { "fctrl", 32, FPCTL, 0 },
	{ "fstat", 32, FPCTL, 1 }, { "ftag", 32, FPCTL, 2 }, { "fiseg", 32, FPCTL, 3 },
	{ "fioff", 32, FPCTL, 4 }, { "foseg", 32, FPCTL, 5 }, { "fooff", 32, FPCTL, 6 },
	{ "fop", 32, FPCTL, 7 },
#define X(n) { "xmm" #n, 128, XMM, n }
	X(0), X(1), X(2), X(3), X(4), X(5), X(6), X(7), X(8), X(9), X(10), X(11), X(12), X(13),
	X(14), X(15),
#undef X
	{ "mxcsr", 32, MXCSR, 0 }, { "orig_rax", 64, ORIG_RAX, 0 }, { "fs_base", 64, FS_BASE, 0 },
	{ "gs_base", 64, GS_BASE, 0 },
#define Y(n) { "ymm" #n "h", 128, YMMH, n }
	Y(0), Y(1), Y(2), Y(3), Y(4), Y(5), Y(6), Y(7), Y(8), Y(9), Y(10), Y(11), Y(12), Y(13),
	Y(14), Y(15),
#undef Y
};

#define NREGS (int)(sizeof(regs) / sizeof(regs[0]))
#define NREGS_NO_AVX (NREGS - 16)

static bool has_avx(struct km_vm *vm)
{
	km_x86_fpu_size(vm);
	return vm->kvm_xsave && (vm->xcr0 & XFEATURE_YMM) &&
	       vm->xsave_size >= XSAVE_YMM_OFFSET + 16 * 16;
}

int gdb_register_count(struct km_vm *vm)
{
	return has_avx(vm) ? NREGS : NREGS_NO_AVX;
}

/* ---- where a stopped thread's user context is -------------------------- */

enum view { PLAIN, FRAME, ENTRY };

static enum view view_of(struct km_vcpu *vcpu, struct km_fault_frame **f)
{
	*f = km_fault_frame_at_out(vcpu);
	if (*f)
		return FRAME;
	return km_x86_in_entry(vcpu->run->s.regs.regs.rip) ? ENTRY : PLAIN;
}

void gdb_user_regs(struct km_vcpu *vcpu, struct kvm_regs *out)
{
	struct km_fault_frame *f;

	*out = vcpu->run->s.regs.regs;
	switch (view_of(vcpu, &f)) {
	case FRAME:
		out->rip = f->rip;
		out->rsp = f->rsp;
		out->rflags = f->rflags;
		break;
	case ENTRY:
		km_x86_return_to_user(out);
		break;
	case PLAIN:
		break;
	}
}

/* Only flags a program may set itself; rip inside user space, where iretq or sysretq go. */
void gdb_set_user_regs(struct km_vcpu *vcpu, const struct kvm_regs *in)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	uint64_t flags = (in->rflags & KM_RFLAGS_USER) | KM_RFLAGS_FIXED;
	uint64_t rip = in->rip < KM_TOP ? in->rip : r->rip;
	struct km_fault_frame *f;

	switch (view_of(vcpu, &f)) {
	case FRAME: {
		uint64_t stub_rip = r->rip, stub_rsp = r->rsp, stub_flags = r->rflags;
		*r = *in;
		r->rip = stub_rip, r->rsp = stub_rsp, r->rflags = stub_flags;
		f->rip = in->rip < KM_TOP ? in->rip : f->rip;
		f->rsp = in->rsp;
		f->rflags = flags;
		break;
	}
	case ENTRY: {
		uint64_t entry_rip = r->rip, entry_flags = r->rflags;
		*r = *in;
		r->rip = entry_rip, r->rflags = entry_flags;
		r->rcx = rip;
		r->r11 = flags;
		break;
	}
	case PLAIN:
		*r = *in;
		r->rip = rip;
		r->rflags = flags;
		break;
	}
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

static __u64 *gpr(struct kvm_regs *r, int i)
{
	__u64 *const order[16] = { &r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi,
				      &r->rbp, &r->rsp, &r->r8,	 &r->r9,  &r->r10, &r->r11,
				      &r->r12, &r->r13, &r->r14, &r->r15 };
	return order[i];
}

/* ---- x87 state as gdb shows it: a full tag word, not FXSAVE's abridged one */

static unsigned full_tag(const uint8_t *fx)
{
	unsigned top = (unsigned)(fx[3] >> 3) & 7, tags = 0;

	for (unsigned phys = 0; phys < 8; phys++) {
		unsigned tag = 3; /* empty */
		if (fx[4] >> phys & 1) {
			const uint8_t *st = fx + 32 + 16 * ((phys - top) & 7);
			unsigned exp = (unsigned)(st[9] & 0x7f) << 8 | st[8];
			uint64_t mant;
			memcpy(&mant, st, 8);
			if (exp == 0x7fff)
				tag = 2; /* special */
			else if (exp == 0)
				tag = mant == 0 ? 1 : 2; /* zero, or denormal */
			else
				tag = mant >> 63 ? 0 : 2; /* valid, or unnormal */
		}
		tags |= tag << (2 * phys);
	}
	return tags;
}

static uint8_t abridged_tag(unsigned full)
{
	uint8_t t = 0;

	for (int i = 0; i < 8; i++)
		if ((full >> (2 * i) & 3) != 3)
			t |= (uint8_t)(1 << i);
	return t;
}

/* Offsets in the FXSAVE area of fstat...fop's 32-bit views, and their widths. */
static const struct {
	int off, size;
} fpctl[8] = { { 0, 2 }, { 2, 2 }, { 4, 1 }, { 12, 4 }, { 8, 4 }, { 20, 4 }, { 16, 4 }, { 6, 2 } };

/* ---- values ------------------------------------------------------------- */

struct state {
	struct kvm_regs r;
	uint8_t fpu[sizeof(struct kvm_xsave)];
	bool have_fpu;
};

static bool needs_fpu(enum reg_kind k)
{
	return k == ST || k == FPCTL || k == XMM || k == MXCSR || k == YMMH;
}

static void value_of(struct km_vcpu *vcpu, struct state *s, const struct reg *g, uint8_t *v)
{
	uint64_t n = 0;

	memset(v, 0, 16);
	if (needs_fpu(g->kind) && !s->have_fpu) {
		km_x86_fpu_save(vcpu, s->fpu);
		s->have_fpu = true;
	}
	switch (g->kind) {
	case GPR: n = *gpr(&s->r, g->index); break;
	case RIP: n = s->r.rip; break;
	case EFLAGS: n = s->r.rflags; break;
	case SEG: n = (uint64_t)g->index; break;
	case ORIG_RAX: n = (uint64_t)-1; break;
	case FS_BASE: n = km_x86_get_fs_base(vcpu); break;
	case GS_BASE: n = 0; break;
	case ST: memcpy(v, s->fpu + 32 + 16 * g->index, 10); return;
	case FPCTL:
		if (g->index == 2)
			n = full_tag(s->fpu);
		else
			memcpy(&n, s->fpu + fpctl[g->index].off, (size_t)fpctl[g->index].size);
		break;
	case XMM: memcpy(v, s->fpu + 160 + 16 * g->index, 16); return;
	case MXCSR: memcpy(&n, s->fpu + 24, 4); break;
	case YMMH:
		if (*(uint64_t *)(s->fpu + 512) & XFEATURE_YMM)
			memcpy(v, s->fpu + XSAVE_YMM_OFFSET + 16 * g->index, 16);
		return;
	}
	memcpy(v, &n, 8);
}

static bool set_value(struct km_vcpu *vcpu, struct state *s, const struct reg *g, const uint8_t *v)
{
	uint64_t n = 0;

	memcpy(&n, v, 8);
	if (needs_fpu(g->kind) && !s->have_fpu) {
		km_x86_fpu_save(vcpu, s->fpu);
		s->have_fpu = true;
	}
	switch (g->kind) {
	case GPR: *gpr(&s->r, g->index) = n; break;
	case RIP: s->r.rip = n; break;
	case EFLAGS: s->r.rflags = (uint32_t)n; break;
	case SEG: case ORIG_RAX: case GS_BASE: break; /* fixed for a program under km */
	case FS_BASE: return km_x86_set_fs_base(vcpu, n) == 0;
	case ST: memcpy(s->fpu + 32 + 16 * g->index, v, 10); break;
	case FPCTL:
		if (g->index == 2)
			s->fpu[4] = abridged_tag((unsigned)n);
		else
			memcpy(s->fpu + fpctl[g->index].off, &n, (size_t)fpctl[g->index].size);
		break;
	case XMM: memcpy(s->fpu + 160 + 16 * g->index, v, 16); break;
	case MXCSR: memcpy(s->fpu + 24, &n, 4); break;
	case YMMH: memcpy(s->fpu + XSAVE_YMM_OFFSET + 16 * g->index, v, 16); break;
	}
	/* XSAVE's header: a component it says is in its initial state would not be loaded. */
	if (needs_fpu(g->kind) && vcpu->vm->kvm_xsave)
		*(uint64_t *)(s->fpu + 512) |= g->kind == YMMH ? XFEATURE_YMM :
					      g->kind == XMM || g->kind == MXCSR ? XFEATURE_SSE : XFEATURE_FP;
	return true;
}

bool gdb_read_registers(struct km_vcpu *vcpu, int n, char *out)
{
	int count = gdb_register_count(vcpu->vm);
	struct state s = { .have_fpu = false };
	uint8_t v[16];

	if (n >= count)
		return false;
	gdb_user_regs(vcpu, &s.r);
	for (int i = n < 0 ? 0 : n; i < (n < 0 ? count : n + 1); i++) {
		value_of(vcpu, &s, &regs[i], v);
		out = gdb_put_hex(out, v, (size_t)regs[i].bits / 8);
	}
	return true;
}

bool gdb_write_registers(struct km_vcpu *vcpu, int n, const char *hex)
{
	int count = gdb_register_count(vcpu->vm);
	struct state s = { .have_fpu = false };
	uint8_t v[16];
	bool ok = true;

	if (n >= count)
		return false;
	gdb_user_regs(vcpu, &s.r);
	for (int i = n < 0 ? 0 : n; i < (n < 0 ? count : n + 1) && ok; i++) {
		size_t size = (size_t)regs[i].bits / 8;
		memset(v, 0, sizeof(v));
		if (!gdb_get_hex(hex, v, size))
			return false;
		hex += 2 * size;
		ok = set_value(vcpu, &s, &regs[i], v);
	}
	if (n >= 0 && *hex)
		return false;
	gdb_set_user_regs(vcpu, &s.r);
	if (s.have_fpu && !km_x86_fpu_restore(vcpu, s.fpu, true))
		return false;
	return ok;
}

/* ---- the target description --------------------------------------------- */

static const char *type_of(const struct reg *g)
{
	switch (g->kind) {
	case RIP: return "code_ptr";
	case EFLAGS: return "i386_eflags";
	case ST: return "i387_ext";
	case XMM: return "vec128";
	case MXCSR: return "i386_mxcsr";
	case YMMH: return "uint128";
	case GPR: return g->index == 6 || g->index == 7 ? "data_ptr" : "int64";
	case FS_BASE: case GS_BASE: case ORIG_RAX: return "int";
	default: return "int";
	}
}

static const char *feature_of(const struct reg *g)
{
	switch (g->kind) {
	case XMM: case MXCSR: return "org.gnu.gdb.i386.sse";
	case ORIG_RAX: return "org.gnu.gdb.i386.linux";
	case FS_BASE: case GS_BASE: return "org.gnu.gdb.i386.segments";
	case YMMH: return "org.gnu.gdb.i386.avx";
	default: return "org.gnu.gdb.i386.core";
	}
}

static const char core_types[] =
	"<flags id=\"i386_eflags\" size=\"4\">"
	"<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
	"<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
	"<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
	"<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
	"<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
	"<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
	"<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
	"<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
	"<field name=\"ID\" start=\"21\" end=\"21\"/></flags>";

static const char sse_types[] =
	"<flags id=\"i386_mxcsr\" size=\"4\">"
	"<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>"
	"<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>"
	"<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>"
	"<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>"
	"<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>"
	"<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>"
	"<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/></flags>"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>";

/* Built once: registers in the order of 'g', grouped by feature. */
const char *gdb_target_xml(struct km_vm *vm)
{
	static char xml[12288];
	static bool made;

	if (made)
		return xml;
	int count = gdb_register_count(vm), len = 0;
	const char *feature = NULL;
	len += snprintf(xml + len, sizeof(xml) - (size_t)len,
			"<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
			"<target version=\"1.0\"><architecture>i386:x86-64</architecture>"
			"<osabi>GNU/Linux</osabi>");
	for (int i = 0; i < count; i++) {
		if (feature != feature_of(&regs[i])) {
			if (feature)
				len += snprintf(xml + len, sizeof(xml) - (size_t)len, "</feature>");
			feature = feature_of(&regs[i]);
			len += snprintf(xml + len, sizeof(xml) - (size_t)len, "<feature name=\"%s\">%s",
					feature, regs[i].kind == GPR ? core_types :
						 regs[i].kind == XMM ? sse_types : "");
		}
		len += snprintf(xml + len, sizeof(xml) - (size_t)len,
				"<reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"%s/>",
				regs[i].name, regs[i].bits, type_of(&regs[i]), i,
				regs[i].kind == ST || regs[i].kind == FPCTL ? " group=\"float\"" :
				regs[i].kind == XMM || regs[i].kind == MXCSR ? " group=\"vector\"" : "");
	}
	snprintf(xml + len, sizeof(xml) - (size_t)len, "</feature></target>");
	made = true;
	return xml;
}
