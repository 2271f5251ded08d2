package specs

import (
	"runtime"
	"sync"
)

// What specs reads from the machine it runs on sits behind these variables,
// so tests can describe another machine.
var (
	// hostArch is libseccomp's name of the host's architecture.
	hostArch = func() string { return nativeArch[runtime.GOARCH] }
	// hostKernel is the running kernel's version; the zero value if it
	// cannot be read.
	hostKernel = sync.OnceValue(readHostKernel)
	// hostBoundingCaps lists the capabilities this process's bounding set
	// holds: what a runtime started from here can grant.
	hostBoundingCaps = sync.OnceValue(readHostBoundingCaps)
	// hostDevices lists the host's device nodes for --privileged.
	hostDevices = readHostDevices
	// sysctlExists reports whether the running kernel has a sysctl.
	sysctlExists = hostSysctlExists
	// hostThermalPaths lists the CPUs' thermal_throttle directories.
	hostThermalPaths = sync.OnceValue(readThermalPaths)
)
