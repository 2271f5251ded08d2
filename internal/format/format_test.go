package format

import (
	"testing"
	"time"
)

func TestSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0B"}, {999, "999B"}, {1000, "1kB"}, {4260000, "4.26MB"}, {4264001, "4.26MB"},
		{146_000_000, "146MB"}, {1_500_000_000, "1.5GB"},
	}
	for _, tt := range tests {
		if got := Size(tt.in); got != tt.want {
			t.Errorf("Size(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "Less than a second"}, {30 * time.Second, "30 seconds"}, {time.Minute, "About a minute"},
		{5 * time.Minute, "5 minutes"}, {time.Hour, "About an hour"}, {3 * time.Hour, "3 hours"},
		{72 * time.Hour, "3 days"}, {21 * 24 * time.Hour, "3 weeks"}, {90 * 24 * time.Hour, "3 months"},
		{3 * 365 * 24 * time.Hour, "3 years"},
	}
	for _, tt := range tests {
		if got := Duration(tt.in); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
