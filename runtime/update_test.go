package main

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1024", 1024, true},
		{"96m", 96 << 20, true},
		{"48M", 48 << 20, true},
		{"1g", 1 << 30, true},
		{"512kb", 512 << 10, true},
		{"1.5g", 3 << 29, true},
		{"-1", -1, true},
		{"", 0, false},
		{"m", 0, false},
		{"-5m", 0, false},
		{"12x", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
