package cgroups

import "encoding/binary"

// bpfInsn is one eBPF instruction (the kernel's struct bpf_insn).
type bpfInsn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

// The few eBPF opcodes a device filter needs.
const (
	bpfLdxW      = 0x61 // BPF_LDX | BPF_MEM | BPF_W
	bpfAlu32AndK = 0x54 // BPF_ALU | BPF_AND | BPF_K
	bpfAlu32RshK = 0x74 // BPF_ALU | BPF_RSH | BPF_K
	bpfAlu32MovK = 0xb4 // BPF_ALU | BPF_MOV | BPF_K
	bpfAlu32MovX = 0xbc // BPF_ALU | BPF_MOV | BPF_X
	bpfJeqK      = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	bpfJneK      = 0x55 // BPF_JMP | BPF_JNE | BPF_K
	bpfExit      = 0x95 // BPF_JMP | BPF_EXIT
)

// Device types in struct bpf_cgroup_dev_ctx (BPF_DEVCG_DEV_*).
const (
	bpfDevBlock = 1
	bpfDevChar  = 2
)

// program compiles s to a BPF_PROG_TYPE_CGROUP_DEVICE filter returning 1 to
// allow and 0 to deny. The context is struct bpf_cgroup_dev_ctx
// {u32 access_type /* access<<16 | type */; u32 major; u32 minor}. Matching
// follows the v1 kernel: a denial matches if it covers any requested access
// bit, a grant only if it covers all of them.
func (s devState) program() []bpfInsn {
	p := []bpfInsn{
		{code: bpfLdxW, dst: 2, src: 1, off: 0},   // r2 = ctx->access_type
		{code: bpfAlu32MovX, dst: 3, src: 2},      // r3 = r2
		{code: bpfAlu32AndK, dst: 2, imm: 0xffff}, // r2 = type
		{code: bpfAlu32RshK, dst: 3, imm: 16},     // r3 = requested access
		{code: bpfLdxW, dst: 4, src: 1, off: 4},   // r4 = major
		{code: bpfLdxW, dst: 5, src: 1, off: 8},   // r5 = minor
	}
	onMatch, otherwise := int32(1), int32(0)
	if s.defaultAllow {
		onMatch, otherwise = 0, 1
	}
	for _, e := range s.exceptions {
		typ := int32(bpfDevChar)
		if e.typ == 'b' {
			typ = bpfDevBlock
		}
		// Every jump in a block skips to the next block; offsets are
		// patched once the block's length is known.
		b := []bpfInsn{{code: bpfJneK, dst: 2, imm: typ}}
		if e.major >= 0 {
			b = append(b, bpfInsn{code: bpfJneK, dst: 4, imm: int32(e.major)})
		}
		if e.minor >= 0 {
			b = append(b, bpfInsn{code: bpfJneK, dst: 5, imm: int32(e.minor)})
		}
		if e.access != accAll {
			if s.defaultAllow {
				b = append(b,
					bpfInsn{code: bpfAlu32MovX, dst: 1, src: 3},
					bpfInsn{code: bpfAlu32AndK, dst: 1, imm: int32(e.access)},
					bpfInsn{code: bpfJeqK, dst: 1, imm: 0}) // no denied bit requested
			} else {
				b = append(b,
					bpfInsn{code: bpfAlu32MovX, dst: 1, src: 3},
					bpfInsn{code: bpfAlu32AndK, dst: 1, imm: int32(accAll &^ e.access)},
					bpfInsn{code: bpfJneK, dst: 1, imm: 0}) // a requested bit is not granted
			}
		}
		b = append(b, bpfInsn{code: bpfAlu32MovK, dst: 0, imm: onMatch}, bpfInsn{code: bpfExit})
		for i := range b {
			if b[i].code == bpfJneK || b[i].code == bpfJeqK {
				b[i].off = int16(len(b) - i - 1)
			}
		}
		p = append(p, b...)
	}
	return append(p, bpfInsn{code: bpfAlu32MovK, dst: 0, imm: otherwise}, bpfInsn{code: bpfExit})
}

// encodeBPF lays instructions out as the kernel reads them. The register
// nibbles follow the little-endian bitfield layout (dst low, src high); berth
// targets amd64 and arm64. It is not inlined so that the result is always
// heap-allocated (see bpfLogSize).
//
//go:noinline
func encodeBPF(p []bpfInsn) []byte {
	b := make([]byte, 8*len(p))
	for i, in := range p {
		o := b[8*i:]
		o[0] = in.code
		o[1] = in.src<<4 | in.dst&0x0f
		binary.LittleEndian.PutUint16(o[2:], uint16(in.off))
		binary.LittleEndian.PutUint32(o[4:], uint32(in.imm))
	}
	return b
}
