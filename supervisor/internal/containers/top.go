package containers

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// Top runs ps on the host (with the given options, "-ef" by default)
// and keeps the rows of the container's processes, as Docker does.
func (s *Service) Top(ctx context.Context, req *api.TopRequest) (*api.TopResponse, error) {
	c, err := s.get(req.GetId())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	t := c.task
	c.mu.Unlock()
	if t == nil {
		return nil, fmt.Errorf("container %s is not running: %w", shortID(c.id), ErrConflict)
	}
	resp, err := t.shim.Task.Pids(shimclient.Context(ctx), &taskapi.PidsRequest{ID: c.id})
	if err != nil {
		return nil, fmt.Errorf("top: %s", shimMessage(err))
	}
	pids := map[string]bool{}
	for _, p := range resp.GetProcesses() {
		pids[strconv.Itoa(int(p.GetPid()))] = true
	}
	args := req.GetPsArgs()
	if len(args) == 0 {
		args = []string{"-ef"}
	}
	out, err := exec.CommandContext(ctx, "ps", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("error running ps: %v: %w", err, ErrInvalidArgument)
	}
	lines := strings.Split(strings.TrimRight(string(bytes.TrimSpace(out)), "\n"), "\n")
	titles := strings.Fields(lines[0])
	col := -1
	for i, t := range titles {
		if t == "PID" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("couldn't find PID field in ps output: %w", ErrInvalidArgument)
	}
	top := &api.TopResponse{Titles: titles}
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		if len(fields) <= col || !pids[fields[col]] {
			continue
		}
		if len(fields) > len(titles) {
			last := strings.Join(fields[len(titles)-1:], " ")
			fields = append(fields[:len(titles)-1], last)
		}
		top.Processes = append(top.Processes, &api.TopRow{Fields: fields})
	}
	return top, nil
}
