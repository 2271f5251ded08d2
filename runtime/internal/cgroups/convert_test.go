package cgroups

import "testing"

func TestSharesToWeight(t *testing.T) {
	for _, tt := range []struct{ shares, want uint64 }{
		{0, 0}, {2, 1}, {1024, 39}, {262144, 10000}, {1, 1}, {1 << 20, 10000},
	} {
		if got := sharesToWeight(tt.shares); got != tt.want {
			t.Errorf("sharesToWeight(%d) = %d, want %d", tt.shares, got, tt.want)
		}
	}
}

func TestBlkioToIOWeight(t *testing.T) {
	for _, tt := range []struct {
		w    uint16
		want uint64
	}{
		{0, 0}, {10, 1}, {500, 4950}, {1000, 10000},
	} {
		if got := blkioToIOWeight(tt.w); got != tt.want {
			t.Errorf("blkioToIOWeight(%d) = %d, want %d", tt.w, got, tt.want)
		}
	}
}

func TestSwapToV2(t *testing.T) {
	tests := []struct {
		name        string
		swap, limit int64
		want        int64
		wantErr     bool
	}{
		{"unset", 0, 100, 0, false},
		{"unlimited memory implies unlimited swap", 0, -1, -1, false},
		{"unlimited swap", -1, 100, -1, false},
		{"swap is the difference", 300, 100, 200, false},
		{"no swap", 100, 100, 0, false},
		{"swap without limit", 300, 0, 0, true},
		{"swap below limit", 50, 100, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := swapToV2(tt.swap, tt.limit)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("swapToV2(%d, %d) = %d, %v, want %d (error %v)", tt.swap, tt.limit, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
