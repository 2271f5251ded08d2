package main

import (
	"fmt"
	"time"

	"github.com/berth-project/berth/supervisor/api"
)

// healthFlags are run's and create's --health-* flags.
type healthFlags struct {
	cmd                                           string
	interval, timeout, startPeriod, startInterval time.Duration
	retries                                       int
}

// healthConfig turns --health-* and --no-healthcheck into the
// container's health check, nil when none is given (the image's then
// applies), checking them as Docker does.
func (o *containerOptions) healthConfig() (*api.HealthConfig, error) {
	h := o.health
	set := h.cmd != "" || h.interval != 0 || h.timeout != 0 || h.startPeriod != 0 || h.startInterval != 0 || h.retries != 0
	if o.noHealthcheck {
		if set {
			return nil, fmt.Errorf("--no-healthcheck conflicts with --health-* options")
		}
		return &api.HealthConfig{Test: []string{"NONE"}}, nil
	}
	if !set {
		return nil, nil
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--health-interval", h.interval}, {"--health-timeout", h.timeout}, {"--health-start-period", h.startPeriod}, {"--health-start-interval", h.startInterval}} {
		if d.v < 0 {
			return nil, fmt.Errorf("%s cannot be negative", d.flag)
		}
	}
	if h.retries < 0 {
		return nil, fmt.Errorf("--health-retries cannot be negative")
	}
	hc := &api.HealthConfig{
		Interval: int64(h.interval), Timeout: int64(h.timeout), StartPeriod: int64(h.startPeriod),
		StartInterval: int64(h.startInterval), Retries: int32(h.retries),
	}
	if h.cmd != "" {
		hc.Test = []string{"CMD-SHELL", h.cmd}
	}
	return hc, nil
}
