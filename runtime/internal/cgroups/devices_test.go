package cgroups

import (
	"encoding/binary"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func dev(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: access}
	if major != unset {
		d.Major = &major
	}
	if minor != unset {
		d.Minor = &minor
	}
	return d
}

// -2 leaves a number unset in dev.
const unset = -2

func TestDeviceRules(t *testing.T) {
	tests := []struct {
		name string
		in   []specs.LinuxDeviceCgroup
		want []string
	}{
		{"deny all", []specs.LinuxDeviceCgroup{dev(false, "", unset, unset, "rwm")}, []string{"a"}},
		{"char device", []specs.LinuxDeviceCgroup{dev(true, "c", 1, 3, "rwm")}, []string{"c 1:3 rwm"}},
		{"wildcards", []specs.LinuxDeviceCgroup{dev(true, "c", -1, unset, "m"), dev(true, "b", 8, -1, "r")}, []string{"c *:* m", "b 8:* r"}},
		{"empty access is rwm", []specs.LinuxDeviceCgroup{dev(true, "c", 136, unset, "")}, []string{"c 136:* rwm"}},
		{"access order", []specs.LinuxDeviceCgroup{dev(true, "c", 1, 5, "mwr")}, []string{"c 1:5 rwm"}},
		{"all types with a number", []specs.LinuxDeviceCgroup{dev(false, "a", 1, 3, "w")}, []string{"b 1:3 w", "c 1:3 w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := deviceRules(tt.in)
			if err != nil {
				t.Fatalf("deviceRules() error: %v", err)
			}
			var got []string
			for _, r := range rules {
				got = append(got, r.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("deviceRules() = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("deviceRules() = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestDeviceRulesInvalid(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   specs.LinuxDeviceCgroup
	}{
		{"bad type", dev(true, "p", 1, 3, "rwm")},
		{"bad access", dev(true, "c", 1, 3, "rx")},
		{"huge major", dev(true, "c", 1<<40, 3, "r")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := deviceRules([]specs.LinuxDeviceCgroup{tt.in}); err == nil {
				t.Errorf("deviceRules(%+v) succeeded, want an error", tt.in)
			}
		})
	}
}

// request is one device access checked against a compiled filter.
type request struct {
	typ          byte // 'b' or 'c'
	major, minor uint32
	access       uint8
	allow        bool
}

// TestDeviceFilter compiles rule sets to eBPF and runs the programs in a
// small interpreter, checking the verdicts the v1 kernel would give.
func TestDeviceFilter(t *testing.T) {
	denyAll := dev(false, "", unset, unset, "rwm")
	tests := []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		reqs  []request
	}{
		{"no rules allow everything", nil, []request{
			{'c', 1, 3, accRead, true}, {'b', 8, 0, accAll, true},
		}},
		{"allow list", []specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "c", 1, 5, "rw")}, []request{
			{'c', 1, 3, accRead | accWrite, true},
			{'c', 1, 5, accRead | accWrite, true},
			{'c', 1, 5, accMknod, false},
			{'b', 1, 3, accRead, false},
			{'c', 1, 7, accRead, false},
		}},
		{"grant must cover every requested bit", []specs.LinuxDeviceCgroup{denyAll, dev(true, "c", -1, -1, "m"), dev(true, "c", 1, 3, "r")}, []request{
			{'c', 1, 3, accRead, true},
			{'c', 1, 3, accRead | accWrite, false},
			{'c', 9, 9, accMknod, true},
			{'b', 9, 9, accMknod, false},
		}},
		{"grants for one device merge", []specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "r"), dev(true, "c", 1, 3, "w")}, []request{
			{'c', 1, 3, accRead | accWrite, true},
			{'c', 1, 3, accMknod, false},
		}},
		{"deny list matches any bit", []specs.LinuxDeviceCgroup{dev(false, "c", 1, 3, "w")}, []request{
			{'c', 1, 3, accRead, true},
			{'c', 1, 3, accRead | accWrite, false},
			{'c', 2, 2, accAll, true},
		}},
		{"later deny removes access", []specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm"), dev(false, "c", 1, 3, "w")}, []request{
			{'c', 1, 3, accRead, true},
			{'c', 1, 3, accWrite, false},
		}},
		{"allow all resets", []specs.LinuxDeviceCgroup{denyAll, dev(true, "a", unset, unset, "rwm")}, []request{
			{'c', 4, 4, accAll, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := deviceRules(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			code := encodeBPF(emulateDevices(rules).program())
			for _, r := range tt.reqs {
				if got := runDeviceFilter(t, code, r); got != r.allow {
					t.Errorf("filter(%c %d:%d access %03b) = %v, want %v", r.typ, r.major, r.minor, r.access, got, r.allow)
				}
			}
		})
	}
}

// runDeviceFilter interprets the opcodes program emits against the
// struct bpf_cgroup_dev_ctx for r.
func runDeviceFilter(t *testing.T, code []byte, r request) bool {
	t.Helper()
	typ := uint32(bpfDevChar)
	if r.typ == 'b' {
		typ = bpfDevBlock
	}
	ctx := make([]byte, 12)
	binary.LittleEndian.PutUint32(ctx[0:], uint32(r.access)<<16|typ)
	binary.LittleEndian.PutUint32(ctx[4:], r.major)
	binary.LittleEndian.PutUint32(ctx[8:], r.minor)
	var reg [11]uint64
	for pc := 0; pc < len(code)/8; pc++ {
		in := code[8*pc:]
		dst, src := in[1]&0x0f, in[1]>>4
		off := int16(binary.LittleEndian.Uint16(in[2:]))
		imm := int32(binary.LittleEndian.Uint32(in[4:]))
		switch in[0] {
		case bpfLdxW:
			if src != 1 || off < 0 || off > 8 {
				t.Fatalf("pc %d: load outside the context", pc)
			}
			reg[dst] = uint64(binary.LittleEndian.Uint32(ctx[off:]))
		case bpfAlu32MovX:
			reg[dst] = uint64(uint32(reg[src]))
		case bpfAlu32MovK:
			reg[dst] = uint64(uint32(imm))
		case bpfAlu32AndK:
			reg[dst] = uint64(uint32(reg[dst]) & uint32(imm))
		case bpfAlu32RshK:
			reg[dst] = uint64(uint32(reg[dst]) >> uint32(imm))
		case bpfJeqK:
			if reg[dst] == uint64(int64(imm)) {
				pc += int(off)
			}
		case bpfJneK:
			if reg[dst] != uint64(int64(imm)) {
				pc += int(off)
			}
		case bpfExit:
			return reg[0] == 1
		default:
			t.Fatalf("pc %d: unknown opcode %#x", pc, in[0])
		}
	}
	t.Fatal("program ran off its end")
	return false
}
