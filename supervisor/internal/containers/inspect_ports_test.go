package containers

import (
	"encoding/json"
	"testing"
)

func TestPortBindings(t *testing.T) {
	tests := []struct {
		publish []string
		want    string
	}{
		{nil, `{}`},
		{[]string{"8080:80"}, `{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}`},
		{[]string{"127.0.0.1::53/udp"}, `{"53/udp":[{"HostIp":"127.0.0.1","HostPort":""}]}`},
		{[]string{"80", "9000:80"}, `{"80/tcp":[{"HostIp":"","HostPort":""},{"HostIp":"","HostPort":"9000"}]}`},
	}
	for _, tt := range tests {
		b, _ := json.Marshal(portBindings(tt.publish))
		if string(b) != tt.want {
			t.Errorf("portBindings(%q) = %s, want %s", tt.publish, b, tt.want)
		}
	}
}
