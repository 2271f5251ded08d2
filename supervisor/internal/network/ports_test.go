package network

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func TestParsePort(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		in   string
		want []PortMapping
	}{
		{"80", []PortMapping{{Proto: "tcp", ContainerPort: 80}}},
		{"53/udp", []PortMapping{{Proto: "udp", ContainerPort: 53}}},
		{"8080:80", []PortMapping{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}}},
		{"8080:80/TCP", []PortMapping{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}}},
		{"127.0.0.1:8080:80/udp", []PortMapping{{Proto: "udp", HostIP: lo, HostPort: 8080, ContainerPort: 80}}},
		{"127.0.0.1::80", []PortMapping{{Proto: "tcp", HostIP: lo, ContainerPort: 80}}},
		{"0.0.0.0:1:2", []PortMapping{{Proto: "tcp", HostPort: 1, ContainerPort: 2}}},
		{"8000-8001:80-81", []PortMapping{
			{Proto: "tcp", HostPort: 8000, ContainerPort: 80},
			{Proto: "tcp", HostPort: 8001, ContainerPort: 81},
		}},
		{"90-91", []PortMapping{{Proto: "tcp", ContainerPort: 90}, {Proto: "tcp", ContainerPort: 91}}},
	} {
		got, err := ParsePort(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParsePort(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "x", "0", "80/sctp", "70000", "1:2:3:4", "[::1]:80:80", "::1:80:80", "localhost:80:80",
		"0:80", "8000-8002:80-81", "90-80", "1.2.3.4.5:80:80", "80:",
	} {
		if got, err := ParsePort(in); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ParsePort(%q) = %v, %v; want ErrInvalidArgument", in, got, err)
		}
	}
}

func TestParsePortsDuplicates(t *testing.T) {
	if _, err := ParsePorts([]string{"8080:80", "8080:81"}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("same host port twice = %v, want ErrInvalidArgument", err)
	}
	if _, err := ParsePorts([]string{"8080:80", "8080:80/udp", "127.0.0.1:8081:80", "80", "80"}); err != nil {
		t.Errorf("distinct bindings: %v", err)
	}
}

func TestPortMappingString(t *testing.T) {
	m := PortMapping{Proto: "tcp", HostPort: 8080, ContainerPort: 80}
	if s := m.String(); s != "0.0.0.0:8080->80/tcp" {
		t.Errorf("String = %q", s)
	}
}
