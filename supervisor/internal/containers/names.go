package containers

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
)

// validName is what Docker accepts as a container name.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// checkName validates a user-given name (a leading "/" is Docker's form
// and is dropped).
func checkName(name string) (string, error) {
	if len(name) > 0 && name[0] == '/' {
		name = name[1:]
	}
	if !validName.MatchString(name) || len(name) > 253 {
		return "", fmt.Errorf("invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", name, ErrInvalidArgument)
	}
	return name, nil
}

// newID returns a random 64-hex container or exec ID.
func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Generated names are an adjective and a harbour word, as Docker's are an
// adjective and a surname.
var (
	nameAdjectives = []string{
		"amber", "bold", "brave", "brisk", "calm", "clever", "cosy", "crisp", "daring", "deft",
		"eager", "fair", "fleet", "gentle", "glad", "grand", "hardy", "keen", "kind", "lively",
		"lucky", "merry", "mellow", "nimble", "noble", "patient", "proud", "quick", "quiet", "rapid",
		"ready", "serene", "sharp", "shy", "sleek", "steady", "stout", "sturdy", "swift", "tidy",
		"trusty", "vivid", "warm", "wise", "witty", "zesty",
	}
	nameNouns = []string{
		"anchor", "bay", "beacon", "bollard", "breakwater", "buoy", "capstan", "cove", "crane", "dock",
		"ferry", "fjord", "galley", "gangway", "harbour", "hawser", "helm", "hull", "inlet", "jetty",
		"keel", "lagoon", "lighthouse", "marina", "mast", "mooring", "pier", "pilot", "port", "quay",
		"reef", "rudder", "schooner", "shore", "skiff", "slipway", "sloop", "sound", "tide", "tug",
		"wharf", "windlass", "yawl",
	}
)

func pick(list []string) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(list))))
	return list[n.Int64()]
}

// randomName returns a generated name; taken reports names in use.
func randomName(taken func(string) bool) string {
	for i := 0; ; i++ {
		name := pick(nameAdjectives) + "_" + pick(nameNouns)
		if i > 10 {
			n, _ := rand.Int(rand.Reader, big.NewInt(100))
			name = fmt.Sprintf("%s%d", name, n.Int64())
		}
		if !taken(name) {
			return name
		}
	}
}
