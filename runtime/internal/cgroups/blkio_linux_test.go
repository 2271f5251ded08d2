package cgroups

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWeightsSet(t *testing.T) {
	zero, ten := uint16(0), uint16(10)
	b := &specs.LinuxBlockIO{Weight: &zero, LeafWeight: &ten,
		WeightDevice: []specs.LinuxWeightDevice{{Weight: &zero}, {Weight: &ten}}}
	got := weightsSet(b)
	if got.Weight != nil || got.LeafWeight == nil || len(got.WeightDevice) != 1 {
		t.Fatalf("weightsSet(weight 0, leaf 10, devices [0, 10]) = %+v, want weight unset, leaf kept, one device", got)
	}
	if b.Weight == nil || len(b.WeightDevice) != 2 {
		t.Fatal("weightsSet modified its argument")
	}
}
