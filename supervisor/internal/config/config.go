// Package config is berthd's configuration: defaults, an optional JSON
// file (--config) and command-line flags, in rising priority.
package config

import (
	"encoding/json"
	"fmt"
	"os"
)

// Config is berthd's configuration. The JSON names are the flag names.
type Config struct {
	Root     string `json:"root"`
	State    string `json:"state"`
	Address  string `json:"address"`
	LogLevel string `json:"log-level"`
	// LogFormat is "text" or "json".
	LogFormat string `json:"log-format"`
	// InsecureRegistries are reached over plain HTTP (loopback always is).
	InsecureRegistries     []string `json:"insecure-registries"`
	MaxConcurrentDownloads int      `json:"max-concurrent-downloads"`
	// ResolvConf is where berth's DNS responder finds the servers it
	// relays names other than containers' to, and the search domains
	// containers get; "" is /etc/resolv.conf. An empty file relays
	// nothing (tests use that, so that no name leaves the host).
	ResolvConf string `json:"resolv-conf,omitempty"`
}

// Default is the configuration without file or flags.
func Default() Config {
	return Config{
		Root:                   "/var/lib/berth",
		State:                  "/run/berth",
		Address:                "/run/berth/berthd.sock",
		LogLevel:               "info",
		LogFormat:              "text",
		MaxConcurrentDownloads: 4,
	}
}

// Load overlays the JSON file at path on c; unknown keys are errors, so a
// typo does not silently fall back to a default.
func (c *Config) Load(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}
