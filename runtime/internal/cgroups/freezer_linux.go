package cgroups

import (
	"fmt"
	"strings"
	"time"
)

// freezeV1 freezes a v1 freezer cgroup. The kernel reports FREEZING until
// every task is frozen, and a cgroup whose tasks keep forking can stay there;
// like runc, berth keeps rewriting FROZEN and now and then thaws briefly,
// which lets the racing tasks settle.
func freezeV1(dir string) error {
	for i := 0; i < 1000; i++ {
		if i%50 == 49 {
			_ = writeFile(dir, "freezer.state", "THAWED")
			time.Sleep(10 * time.Millisecond)
		}
		if err := writeFile(dir, "freezer.state", "FROZEN"); err != nil {
			return err
		}
		if i%25 == 24 {
			time.Sleep(10 * time.Microsecond)
		}
		state, err := readFile(dir, "freezer.state")
		if err != nil {
			return err
		}
		switch state = strings.TrimSpace(state); state {
		case "FROZEN":
			return nil
		case "FREEZING":
		default:
			return fmt.Errorf("freeze %s: state is %s after writing FROZEN", dir, state)
		}
	}
	_ = writeFile(dir, "freezer.state", "THAWED")
	return fmt.Errorf("freeze %s: still freezing after 1000 tries", dir)
}

func frozenV1(dir string) (bool, error) {
	state, err := readFile(dir, "freezer.state")
	return strings.TrimSpace(state) == "FROZEN", err
}

// freezeV2 writes cgroup.freeze and waits for cgroup.events to say
// "frozen 1": the write only starts freezing.
func freezeV2(dir string) error {
	if err := writeFile(dir, "cgroup.freeze", "1"); err != nil {
		return err
	}
	delay := 50 * time.Microsecond
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		frozen, err := frozenV2(dir)
		if err != nil || frozen {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, 10*time.Millisecond)
	}
	_ = writeFile(dir, "cgroup.freeze", "0")
	return fmt.Errorf("freeze %s: %w", dir, errFreezeTimeout)
}

func frozenV2(dir string) (bool, error) {
	s, err := readFile(dir, "cgroup.events")
	if err != nil {
		return false, err
	}
	v, _ := keyValue(s, "frozen")
	return v == 1, nil
}
