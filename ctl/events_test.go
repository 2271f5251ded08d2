package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestEventTime(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"10m", now.Add(-10 * time.Minute).UnixNano(), true},
		{"1700000000", time.Unix(1700000000, 0).UnixNano(), true},
		{"1700000000.5", time.Unix(1700000000, 5e8).UnixNano(), true},
		{"2026-12-07T11:00:00Z", now.Add(-time.Hour).UnixNano(), true},
		{"yesterday", 0, false},
	}
	for _, tt := range tests {
		got, err := eventTime("since", tt.in, now)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("eventTime(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestPrintEvent(t *testing.T) {
	raw := []byte(`{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"web","image":"busybox"}},"scope":"local","time":1,"timeNano":1000000001}`)
	var b bytes.Buffer
	if err := printEvent(&b, raw, ""); err != nil {
		t.Fatal(err)
	}
	want := time.Unix(1, 1).Format(time.RFC3339Nano) + " container start abc (image=busybox, name=web)\n"
	if b.String() != want {
		t.Errorf("printEvent = %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := printEvent(&b, raw, "{{.Action}} {{.Actor.Attributes.name}}"); err != nil || b.String() != "start web\n" {
		t.Errorf("printEvent with a template = %q, %v", b.String(), err)
	}
}

// TestJSONTemplateNumbers: inspect --format sees whole numbers as
// integers, as Docker's typed structs show them.
func TestJSONTemplateNumbers(t *testing.T) {
	var v any
	if err := jsonUnmarshal([]byte(`{"HostConfig":{"Memory":33554432,"NanoCpus":500000000},"State":{"ExitCode":0},"Ratio":0.5,"L":[1,2.5]}`), &v); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	tmpl := `{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{if eq .State.ExitCode 0}}zero{{end}} {{.Ratio}} {{json .L}}`
	if err := executeTemplate(&b, tmpl, v); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "33554432 500000000 zero 0.5 [1,2.5]\n"; got != want {
		t.Errorf("template gave %q, want %q", got, want)
	}
}
