package containerd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cg1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cg2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	eventsapi "github.com/containerd/containerd/api/events"
	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	evttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	runcopts "github.com/containerd/containerd/api/types/runc/options"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// shimHarness is a shim started with its `start` action by the test, which
// plays containerd: it serves Events.Forward at TTRPC_ADDRESS and records
// what arrives, and talks to the shim with the task client.
type shimHarness struct {
	t       *testing.T
	dir     string
	bin     string
	ns      string
	address string // the fake caller's socket (-address)
	rec     *recorder
	client  taskapi.TTRPCTaskService
	conn    *ttrpc.Client
	shimPid int
	shimLog string
	events  *ttrpc.Server
}

type event struct {
	topic string
	msg   proto.Message
}

// recorder implements the events service containerd offers its shims.
type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) Forward(ctx context.Context, req *evttrpc.ForwardRequest) (*emptypb.Empty, error) {
	env := req.GetEnvelope()
	var msg proto.Message
	switch env.GetEvent().GetTypeUrl() {
	case "containerd.events.TaskCreate":
		msg = &eventsapi.TaskCreate{}
	case "containerd.events.TaskStart":
		msg = &eventsapi.TaskStart{}
	case "containerd.events.TaskExit":
		msg = &eventsapi.TaskExit{}
	case "containerd.events.TaskDelete":
		msg = &eventsapi.TaskDelete{}
	case "containerd.events.TaskExecAdded":
		msg = &eventsapi.TaskExecAdded{}
	case "containerd.events.TaskExecStarted":
		msg = &eventsapi.TaskExecStarted{}
	case "containerd.events.TaskOOM":
		msg = &eventsapi.TaskOOM{}
	case "containerd.events.TaskPaused":
		msg = &eventsapi.TaskPaused{}
	case "containerd.events.TaskResumed":
		msg = &eventsapi.TaskResumed{}
	default:
		// containerd 1.6 cannot decode any other type URL (a prefixed
		// "type.googleapis.com/..." one, say); neither can we.
		return nil, fmt.Errorf("unexpected event type %q", env.GetEvent().GetTypeUrl())
	}
	if err := proto.Unmarshal(env.GetEvent().GetValue(), msg); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.events = append(r.events, event{topic: env.GetTopic(), msg: msg})
	r.mu.Unlock()
	return &emptypb.Empty{}, nil
}

// waitTopics waits until the recorded topics equal want.
func (r *recorder) waitTopics(t *testing.T, want ...string) []event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		r.mu.Lock()
		evs := append([]event(nil), r.events...)
		r.mu.Unlock()
		got = got[:0]
		for _, e := range evs {
			got = append(got, e.topic)
		}
		if strings.Join(got, " ") == strings.Join(want, " ") {
			return evs
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("events %q, want %q", got, want)
	return nil
}

func newShimHarness(t *testing.T) *shimHarness {
	t.Helper()
	requireRoot(t)
	dir, err := os.MkdirTemp("/tmp", "bsd")
	if err != nil {
		t.Fatal(err)
	}
	h := &shimHarness{t: t, dir: dir, bin: filepath.Join(dir, "bin"), ns: "bsd-" + randHex(4), address: filepath.Join(dir, "c.sock"), rec: &recorder{}}
	t.Cleanup(h.cleanup)
	installShim(t, h.bin)
	l, err := net.Listen("unix", h.address+".ttrpc")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	evttrpc.RegisterTTRPCEventsService(srv, h.rec)
	go srv.Serve(context.Background(), l)
	h.events = srv // closed after the shim: its last events must not wait for retries
	return h
}

// bundle makes a bundle for id whose process runs args; rootfs/ stays empty
// (Create bind-mounts the busybox tree there). annotations go to config.json.
func (h *shimHarness) bundle(id string, annotations map[string]string, args ...string) string {
	h.t.Helper()
	b := filepath.Join(h.dir, "bundles", id)
	if err := os.MkdirAll(filepath.Join(b, "rootfs"), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if out, err := exec.Command(runtimeBin, "spec", "--bundle", b).CombinedOutput(); err != nil {
		h.t.Fatalf("%s spec: %v: %s", runtimeBin, err, out)
	}
	raw, err := os.ReadFile(filepath.Join(b, "config.json"))
	if err != nil {
		h.t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		h.t.Fatal(err)
	}
	proc := spec["process"].(map[string]any)
	proc["args"], proc["terminal"] = args, false
	spec["linux"].(map[string]any)["cgroupsPath"] = "/" + h.ns + "/" + id
	if annotations != nil {
		spec["annotations"] = annotations
	}
	raw, _ = json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(b, "config.json"), raw, 0o644); err != nil {
		h.t.Fatal(err)
	}
	return b
}

// start runs `containerd-shim-berth-v2 ... start` in bundle and connects.
func (h *shimHarness) start(id, bundle string) {
	h.t.Helper()
	// containerd passes a FIFO named log; a plain file keeps what the
	// shim says for the test's failure output.
	h.shimLog = filepath.Join(bundle, "log")
	if err := os.WriteFile(h.shimLog, nil, 0o644); err != nil {
		h.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(h.bin, "containerd-shim-berth-v2"), "-namespace", h.ns, "-address", h.address, "-id", id, "start")
	cmd.Dir = bundle
	cmd.Env = append(os.Environ(), "TTRPC_ADDRESS="+h.address+".ttrpc")
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("shim start: %v: %s", err, out)
	}
	address := string(out)
	if !strings.HasPrefix(address, "unix://"+filepath.Join(h.dir, "s")+"/") {
		h.t.Fatalf("shim start printed %q, want only unix://%s/<hash>", address, filepath.Join(h.dir, "s"))
	}
	if b, _ := os.ReadFile(filepath.Join(bundle, "address")); string(b) != address {
		h.t.Errorf("bundle address file %q, want %q", b, address)
	}
	conn, err := net.Dial("unix", strings.TrimPrefix(address, "unix://"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.conn = ttrpc.NewClient(conn)
	h.client = taskapi.NewTTRPCTaskClient(h.conn)
	resp, err := h.client.Connect(h.ctx(), &taskapi.ConnectRequest{ID: id})
	if err != nil {
		h.t.Fatalf("Connect: %v", err)
	}
	h.shimPid = int(resp.GetShimPid())
}

func (h *shimHarness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	h.t.Cleanup(cancel)
	return ctx
}

// rootfsMount is the Create request's rootfs: the busybox tree, bind
// mounted read-only like a snapshot.
func rootfsMount() []*types.Mount {
	return []*types.Mount{{Type: "bind", Source: rootfsDir, Options: []string{"rbind", "ro"}}}
}

func (h *shimHarness) create(id, bundle string, mod func(*taskapi.CreateTaskRequest)) (*taskapi.CreateTaskResponse, error) {
	r := &taskapi.CreateTaskRequest{ID: id, Bundle: bundle, Rootfs: rootfsMount()}
	if mod != nil {
		mod(r)
	}
	return h.client.Create(h.ctx(), r)
}

func (h *shimHarness) cleanup() {
	if b, _ := os.ReadFile(h.shimLog); h.t.Failed() && len(b) > 0 {
		h.t.Logf("shim log:\n%s", b)
	}
	if h.client != nil {
		h.client.Shutdown(h.ctx(), &taskapi.ShutdownRequest{Now: true})
		h.conn.Close()
	}
	deadline := time.Now().Add(3 * time.Second)
	for h.shimPid > 0 && processAlive(h.shimPid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, pid := range pidsOfExe(filepath.Join(h.bin, "containerd-shim-berth-v2")) {
		h.t.Logf("killing leftover shim %d", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	h.events.Close()
	cleanupHost(h.dir, h.ns)
}

func isMounted(path string) bool {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s: %v (code %v), want code %v", what, err, got, want)
	}
}

// TestShimEventsAndStdio checks one container's life at the API: event
// order and content, FIFO output, the JSON log, the exit file, unmounting.
func TestShimEventsAndStdio(t *testing.T) {
	h := newShimHarness(t)
	logPath := filepath.Join(h.dir, "logs", "ev1-json.log")
	b := h.bundle("ev1", map[string]string{"io.berth.shim.log-path": logPath}, "sh", "-c", "echo out; echo err >&2; exit 3")
	h.start("ev1", b)
	stdout := filepath.Join(h.dir, "ev1-stdout")
	if err := syscall.Mkfifo(stdout, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(stdout) // blocks until the shim opens its end
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		var sb strings.Builder
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			sb.WriteString(sc.Text() + "\n")
		}
		got <- sb.String()
	}()
	resp, err := h.create("ev1", b, func(r *taskapi.CreateTaskRequest) { r.Stdout = stdout })
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !isMounted(filepath.Join(b, "rootfs")) {
		t.Errorf("rootfs not mounted after Create")
	}
	st, err := h.client.State(h.ctx(), &taskapi.StateRequest{ID: "ev1"})
	if err != nil || st.GetStatus() != tasktypes.Status_CREATED || st.GetPid() != resp.GetPid() {
		t.Errorf("State after Create: %v %v, want CREATED pid %d", st, err, resp.GetPid())
	}
	if _, err := h.client.Start(h.ctx(), &taskapi.StartRequest{ID: "ev1"}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	w, err := h.client.Wait(h.ctx(), &taskapi.WaitRequest{ID: "ev1"})
	if err != nil || w.GetExitStatus() != 3 {
		t.Fatalf("Wait: %v %v, want exit 3", w, err)
	}
	select {
	case s := <-got:
		if s != "out\n" {
			t.Errorf("stdout FIFO got %q, want %q", s, "out\n")
		}
	case <-time.After(10 * time.Second):
		t.Errorf("stdout FIFO never closed")
	}
	if e, err := os.ReadFile(filepath.Join(b, "init.exit")); err != nil || !strings.Contains(string(e), `"exit_status":3`) {
		t.Errorf("init.exit = %q, %v; want exit_status 3", e, err)
	}
	del, err := h.client.Delete(h.ctx(), &taskapi.DeleteRequest{ID: "ev1"})
	if err != nil || del.GetExitStatus() != 3 || del.GetPid() != resp.GetPid() {
		t.Errorf("Delete: %v %v, want exit 3 pid %d", del, err, resp.GetPid())
	}
	if isMounted(filepath.Join(b, "rootfs")) {
		t.Errorf("rootfs still mounted after Delete")
	}
	checkLog(t, logPath, []logRecord{{"out\n", "stdout"}, {"err\n", "stderr"}})

	evs := h.rec.waitTopics(t, "/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete")
	if e := evs[2].msg.(*eventsapi.TaskExit); e.GetID() != "ev1" || e.GetContainerID() != "ev1" || e.GetExitStatus() != 3 || e.GetPid() != resp.GetPid() {
		t.Errorf("TaskExit = %v, want id ev1, container ev1, status 3, pid %d", e, resp.GetPid())
	}
	if e := evs[0].msg.(*eventsapi.TaskCreate); e.GetContainerID() != "ev1" || e.GetBundle() != b || e.GetIO().GetStdout() != stdout {
		t.Errorf("TaskCreate = %v", e)
	}

	if _, err := h.client.Shutdown(h.ctx(), &taskapi.ShutdownRequest{ID: "ev1"}); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for processAlive(h.shimPid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if processAlive(h.shimPid) {
		t.Errorf("shim %d still running after Shutdown", h.shimPid)
	}
	if ents, _ := os.ReadDir(filepath.Join(h.dir, "s")); len(ents) != 0 {
		t.Errorf("socket left in %s after Shutdown", filepath.Join(h.dir, "s"))
	}
	h.client = nil
}

type logRecord struct{ log, stream string }

func checkLog(t *testing.T, path string, want []logRecord) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("log: %v", err)
		return
	}
	var got []logRecord
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec struct {
			Log, Stream string
			Time        time.Time
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time.IsZero() {
			t.Errorf("log line %q: %v (time %v)", line, err, rec.Time)
			continue
		}
		got = append(got, logRecord{rec.Log, rec.Stream})
	}
	// The two streams are copied independently: compare per stream.
	for _, stream := range []string{"stdout", "stderr"} {
		var g, w []string
		for _, r := range got {
			if r.stream == stream {
				g = append(g, r.log)
			}
		}
		for _, r := range want {
			if r.stream == stream {
				w = append(w, r.log)
			}
		}
		if strings.Join(g, "|") != strings.Join(w, "|") {
			t.Errorf("log %s records %q, want %q", stream, g, w)
		}
	}
}

// execSpec is an exec's process as containerd sends it.
func execSpec(t *testing.T, args ...string) *anypb.Any {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"args": args, "cwd": "/", "env": []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		"user": map[string]any{"uid": 0, "gid": 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Process", Value: b}
}

// TestShimExec checks execs: exit status, state, pids, events, and that an
// init's exit is published after its execs'.
func TestShimExec(t *testing.T) {
	h := newShimHarness(t)
	b := h.bundle("ex", nil, "sleep", "1000")
	h.start("ex", b)
	resp, err := h.create("ex", b, nil)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := h.client.Start(h.ctx(), &taskapi.StartRequest{ID: "ex"}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, err := h.client.Exec(h.ctx(), &taskapi.ExecProcessRequest{ID: "ex", ExecID: "five", Spec: execSpec(t, "sh", "-c", "exit 5")}); err != nil {
		t.Fatalf("Exec: %v", err)
	}
	_, err = h.client.Exec(h.ctx(), &taskapi.ExecProcessRequest{ID: "ex", ExecID: "five", Spec: execSpec(t, "true")})
	wantCode(t, "Exec with a used exec id", err, codes.AlreadyExists)
	st, err := h.client.State(h.ctx(), &taskapi.StateRequest{ID: "ex", ExecID: "five"})
	if err != nil || st.GetStatus() != tasktypes.Status_CREATED {
		t.Errorf("exec State before Start: %v %v, want CREATED", st, err)
	}
	if _, err := h.client.Start(h.ctx(), &taskapi.StartRequest{ID: "ex", ExecID: "five"}); err != nil {
		t.Fatalf("Start exec: %v", err)
	}
	w, err := h.client.Wait(h.ctx(), &taskapi.WaitRequest{ID: "ex", ExecID: "five"})
	if err != nil || w.GetExitStatus() != 5 {
		t.Errorf("Wait exec: %v %v, want 5", w, err)
	}
	st, err = h.client.State(h.ctx(), &taskapi.StateRequest{ID: "ex", ExecID: "five"})
	if err != nil || st.GetStatus() != tasktypes.Status_STOPPED || st.GetExitStatus() != 5 {
		t.Errorf("exec State after exit: %v %v, want STOPPED 5", st, err)
	}
	if e, err := os.ReadFile(filepath.Join(b, "exec-five.exit")); err != nil || !strings.Contains(string(e), `"exit_status":5`) {
		t.Errorf("exec-five.exit = %q, %v", e, err)
	}
	if d, err := h.client.Delete(h.ctx(), &taskapi.DeleteRequest{ID: "ex", ExecID: "five"}); err != nil || d.GetExitStatus() != 5 {
		t.Errorf("Delete exec: %v %v, want 5", d, err)
	}
	_, err = h.client.State(h.ctx(), &taskapi.StateRequest{ID: "ex", ExecID: "five"})
	wantCode(t, "State of a deleted exec", err, codes.NotFound)

	// A long exec: Pids lists it with its exec id; it ends with init.
	if _, err := h.client.Exec(h.ctx(), &taskapi.ExecProcessRequest{ID: "ex", ExecID: "long", Spec: execSpec(t, "sleep", "500")}); err != nil {
		t.Fatalf("Exec long: %v", err)
	}
	sr, err := h.client.Start(h.ctx(), &taskapi.StartRequest{ID: "ex", ExecID: "long"})
	if err != nil {
		t.Fatalf("Start long: %v", err)
	}
	pids, err := h.client.Pids(h.ctx(), &taskapi.PidsRequest{ID: "ex"})
	if err != nil {
		t.Fatalf("Pids: %v", err)
	}
	var sawInit, sawExec bool
	for _, p := range pids.GetProcesses() {
		switch p.GetPid() {
		case resp.GetPid():
			sawInit = true
		case sr.GetPid():
			var d runcopts.ProcessDetails
			if p.GetInfo() != nil && proto.Unmarshal(p.GetInfo().GetValue(), &d) == nil && d.GetExecID() == "long" {
				sawExec = true
			}
		}
	}
	if !sawInit || !sawExec {
		t.Errorf("Pids = %v, want init %d and exec %d with exec id", pids.GetProcesses(), resp.GetPid(), sr.GetPid())
	}
	if _, err := h.client.Kill(h.ctx(), &taskapi.KillRequest{ID: "ex", Signal: 9}); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	w, err = h.client.Wait(h.ctx(), &taskapi.WaitRequest{ID: "ex"})
	if err != nil || w.GetExitStatus() != 137 {
		t.Errorf("Wait init: %v %v, want 137", w, err)
	}
	_, err = h.client.Kill(h.ctx(), &taskapi.KillRequest{ID: "ex", Signal: 9})
	wantCode(t, "Kill after exit", err, codes.NotFound)
	if _, err := h.client.Delete(h.ctx(), &taskapi.DeleteRequest{ID: "ex"}); err != nil {
		t.Errorf("Delete: %v", err)
	}
	evs := h.rec.waitTopics(t, "/tasks/create", "/tasks/start",
		"/tasks/exec-added", "/tasks/exec-started", "/tasks/exit",
		"/tasks/exec-added", "/tasks/exec-started", "/tasks/exit", "/tasks/exit", "/tasks/delete")
	if e := evs[4].msg.(*eventsapi.TaskExit); e.GetID() != "five" || e.GetExitStatus() != 5 {
		t.Errorf("exec TaskExit = %v, want id five status 5", e)
	}
	if e := evs[7].msg.(*eventsapi.TaskExit); e.GetID() != "long" || e.GetContainerID() != "ex" {
		t.Errorf("second TaskExit = %v, want the exec's (long) before init's", e)
	}
	if e := evs[8].msg.(*eventsapi.TaskExit); e.GetID() != "ex" || e.GetExitStatus() != 137 {
		t.Errorf("last TaskExit = %v, want init's: id ex status 137", e)
	}
}

// TestShimUpdateAndOOM updates a running container's resources, then runs
// one into its memory limit: TaskOOM must come before its TaskExit.
func TestShimUpdateAndOOM(t *testing.T) {
	h := newShimHarness(t)
	b := h.bundle("upd", nil, "sleep", "1000")
	h.start("upd", b)
	if _, err := h.create("upd", b, nil); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := h.client.Start(h.ctx(), &taskapi.StartRequest{ID: "upd"}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	res := &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources", Value: []byte(`{"pids":{"limit":42}}`)}
	if _, err := h.client.Update(h.ctx(), &taskapi.UpdateTaskRequest{ID: "upd", Resources: res}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	st, err := h.client.Stats(h.ctx(), &taskapi.StatsRequest{ID: "upd"})
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	var limit uint64
	switch st.GetStats().GetTypeUrl() {
	case "io.containerd.cgroups.v1.Metrics":
		var m cg1.Metrics
		proto.Unmarshal(st.GetStats().GetValue(), &m)
		limit = m.GetPids().GetLimit()
	case "io.containerd.cgroups.v2.Metrics":
		var m cg2.Metrics
		proto.Unmarshal(st.GetStats().GetValue(), &m)
		limit = m.GetPids().GetLimit()
	default:
		t.Fatalf("Stats type %q", st.GetStats().GetTypeUrl())
	}
	if limit != 42 {
		t.Errorf("pids limit after Update = %d, want 42", limit)
	}
	h.client.Kill(h.ctx(), &taskapi.KillRequest{ID: "upd", Signal: 9})
	h.client.Wait(h.ctx(), &taskapi.WaitRequest{ID: "upd"})
	h.client.Delete(h.ctx(), &taskapi.DeleteRequest{ID: "upd"})

	ob := h.bundle("oom", nil, "sh", "-c", `x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived`)
	setMemoryLimit(t, ob, 16<<20)
	if _, err := h.create("oom", ob, nil); err != nil {
		t.Fatalf("Create oom: %v", err)
	}
	if _, err := h.client.Start(h.ctx(), &taskapi.StartRequest{ID: "oom"}); err != nil {
		t.Fatalf("Start oom: %v", err)
	}
	w, err := h.client.Wait(h.ctx(), &taskapi.WaitRequest{ID: "oom"})
	if err != nil || w.GetExitStatus() != 137 {
		t.Errorf("Wait oom: %v %v, want 137", w, err)
	}
	h.client.Delete(h.ctx(), &taskapi.DeleteRequest{ID: "oom"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.rec.mu.Lock()
		var topics []string
		for _, e := range h.rec.events {
			topics = append(topics, e.topic)
		}
		h.rec.mu.Unlock()
		all := strings.Join(topics, " ")
		if i := strings.Index(all, "/tasks/oom"); i >= 0 && strings.LastIndex(all, "/tasks/exit") > i {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %q: want /tasks/oom before the last /tasks/exit", topics)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func setMemoryLimit(t *testing.T, bundle string, limit int64) {
	t.Helper()
	p := filepath.Join(bundle, "config.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	json.Unmarshal(raw, &spec)
	linux := spec["linux"].(map[string]any)
	res, _ := linux["resources"].(map[string]any)
	if res == nil {
		res = map[string]any{}
	}
	res["memory"] = map[string]any{"limit": limit, "swap": limit}
	linux["resources"] = res
	raw, _ = json.Marshal(spec)
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestShimBadInput checks error categories and that failed requests leave
// nothing behind.
func TestShimBadInput(t *testing.T) {
	h := newShimHarness(t)
	b := h.bundle("good", nil, "sleep", "1000")
	h.start("good", b)
	ctx := h.ctx()

	t.Run("unknown id", func(t *testing.T) {
		c := h.client
		_, err := c.State(ctx, &taskapi.StateRequest{ID: "nope"})
		wantCode(t, "State", err, codes.NotFound)
		_, err = c.Start(ctx, &taskapi.StartRequest{ID: "nope"})
		wantCode(t, "Start", err, codes.NotFound)
		_, err = c.Kill(ctx, &taskapi.KillRequest{ID: "nope", Signal: 9})
		wantCode(t, "Kill", err, codes.NotFound)
		_, err = c.Delete(ctx, &taskapi.DeleteRequest{ID: "nope"})
		wantCode(t, "Delete", err, codes.NotFound)
		_, err = c.Pids(ctx, &taskapi.PidsRequest{ID: "nope"})
		wantCode(t, "Pids", err, codes.NotFound)
		_, err = c.Wait(ctx, &taskapi.WaitRequest{ID: "nope"})
		wantCode(t, "Wait", err, codes.NotFound)
		_, err = c.Pause(ctx, &taskapi.PauseRequest{ID: "nope"})
		wantCode(t, "Pause", err, codes.NotFound)
		_, err = c.Exec(ctx, &taskapi.ExecProcessRequest{ID: "nope", ExecID: "x", Spec: execSpec(t, "true")})
		wantCode(t, "Exec", err, codes.NotFound)
		_, err = c.Stats(ctx, &taskapi.StatsRequest{ID: "nope"})
		wantCode(t, "Stats", err, codes.NotFound)
		_, err = c.CloseIO(ctx, &taskapi.CloseIORequest{ID: "nope", Stdin: true})
		wantCode(t, "CloseIO", err, codes.NotFound)
	})

	// A failed Create must leave no mount, runtime state or shim file.
	nothingLeft := func(t *testing.T, id, bundle string) {
		t.Helper()
		if isMounted(filepath.Join(bundle, "rootfs")) {
			t.Errorf("%s: rootfs still mounted", id)
		}
		for _, f := range []string{"options.json", "init.pid"} {
			if _, err := os.Stat(filepath.Join(bundle, f)); err == nil {
				t.Errorf("%s: %s left in the bundle", id, f)
			}
		}
		if _, err := os.Stat(filepath.Join("/run/berth-runtime", h.ns, id)); err == nil {
			t.Errorf("%s: runtime state left", id)
		}
		_, err := h.client.State(ctx, &taskapi.StateRequest{ID: id})
		wantCode(t, id+": State after failed Create", err, codes.NotFound)
	}

	t.Run("missing bundle", func(t *testing.T) {
		_, err := h.create("nob", filepath.Join(h.dir, "no-such-bundle"), nil)
		wantCode(t, "Create", err, codes.NotFound)
	})
	t.Run("bad runtime path", func(t *testing.T) {
		bb := h.bundle("badrt", nil, "true")
		opts, _ := proto.Marshal(&runcopts.Options{BinaryName: "/nonexistent/berth-runtime"})
		_, err := h.create("badrt", bb, func(r *taskapi.CreateTaskRequest) {
			r.Options = &anypb.Any{TypeUrl: "containerd.runc.v1.Options", Value: opts}
		})
		wantCode(t, "Create", err, codes.InvalidArgument)
		nothingLeft(t, "badrt", bb)
	})
	t.Run("failing runtime", func(t *testing.T) {
		bb := h.bundle("falsert", nil, "true")
		opts, _ := proto.Marshal(&runcopts.Options{BinaryName: "/bin/false"})
		_, err := h.create("falsert", bb, func(r *taskapi.CreateTaskRequest) {
			r.Options = &anypb.Any{TypeUrl: "containerd.runc.v1.Options", Value: opts}
		})
		if err == nil {
			t.Errorf("Create with runtime /bin/false succeeded")
		}
		nothingLeft(t, "falsert", bb)
	})
	t.Run("bad process", func(t *testing.T) {
		bb := h.bundle("badproc", nil, "/no/such/binary")
		_, err := h.create("badproc", bb, nil)
		if err == nil {
			_, err = h.client.Start(ctx, &taskapi.StartRequest{ID: "badproc"})
			if err == nil {
				w, _ := h.client.Wait(ctx, &taskapi.WaitRequest{ID: "badproc"})
				if w.GetExitStatus() == 0 {
					t.Errorf("process /no/such/binary exited 0")
				}
			}
			h.client.Delete(ctx, &taskapi.DeleteRequest{ID: "badproc"})
		}
		nothingLeft(t, "badproc", bb)
	})
	t.Run("delete created", func(t *testing.T) {
		bb := h.bundle("created", nil, "sleep", "1000")
		resp, err := h.create("created", bb, nil)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		d, err := h.client.Delete(ctx, &taskapi.DeleteRequest{ID: "created"})
		if err != nil || d.GetPid() != resp.GetPid() {
			t.Errorf("Delete of a created task: %v %v, want pid %d", d, err, resp.GetPid())
		}
		if processAlive(int(resp.GetPid())) {
			t.Errorf("init %d of a deleted created task still alive", resp.GetPid())
		}
		nothingLeftButExit(t, h, "created", bb)
	})
	t.Run("invalid id", func(t *testing.T) {
		_, err := h.create("../evil", b, nil)
		wantCode(t, "Create", err, codes.InvalidArgument)
		_, err = h.client.Exec(ctx, &taskapi.ExecProcessRequest{ID: "good", ExecID: "a/b", Spec: execSpec(t, "true")})
		if c := status.Code(err); c != codes.InvalidArgument && c != codes.NotFound {
			t.Errorf("Exec with exec id a/b: %v", err)
		}
	})
	t.Run("second create", func(t *testing.T) {
		if _, err := h.create("good", b, nil); err != nil {
			t.Fatalf("first Create: %v", err)
		}
		_, err := h.create("good", b, nil)
		wantCode(t, "second Create", err, codes.AlreadyExists)
		if _, err := h.client.Start(ctx, &taskapi.StartRequest{ID: "good"}); err != nil {
			t.Fatalf("Start after a rejected second Create: %v", err)
		}
		_, err = h.client.Start(ctx, &taskapi.StartRequest{ID: "good"})
		wantCode(t, "second Start", err, codes.FailedPrecondition)
		_, err = h.client.Start(ctx, &taskapi.StartRequest{ID: "good", ExecID: "nope"})
		wantCode(t, "Start of an unknown exec", err, codes.NotFound)
		_, err = h.client.Delete(ctx, &taskapi.DeleteRequest{ID: "good"})
		wantCode(t, "Delete while running", err, codes.FailedPrecondition)
		_, err = h.client.Resume(ctx, &taskapi.ResumeRequest{ID: "good"})
		wantCode(t, "Resume while running", err, codes.FailedPrecondition)
		_, err = h.client.ResizePty(ctx, &taskapi.ResizePtyRequest{ID: "good", Width: 80, Height: 24})
		wantCode(t, "ResizePty without a terminal", err, codes.FailedPrecondition)
		if _, err := h.client.Stats(ctx, &taskapi.StatsRequest{ID: "good"}); err != nil {
			t.Errorf("Stats: %v", err)
		}
		h.client.Kill(ctx, &taskapi.KillRequest{ID: "good", Signal: 9})
		h.client.Wait(ctx, &taskapi.WaitRequest{ID: "good"})
		if _, err := h.client.Delete(ctx, &taskapi.DeleteRequest{ID: "good"}); err != nil {
			t.Errorf("Delete: %v", err)
		}
		_, err = h.client.Delete(ctx, &taskapi.DeleteRequest{ID: "good"})
		wantCode(t, "second Delete", err, codes.NotFound)
	})
}

// TestShimLogURIs sends output to file:// and binary:// destinations.
func TestShimLogURIs(t *testing.T) {
	h := newShimHarness(t)
	out := filepath.Join(h.dir, "file-out.txt")
	b := h.bundle("furi", nil, "sh", "-c", "echo to-file; echo err-to-file >&2")
	h.start("furi", b)
	run := func(id, bundle, stdout, stderr string) {
		t.Helper()
		if _, err := h.create(id, bundle, func(r *taskapi.CreateTaskRequest) { r.Stdout, r.Stderr = stdout, stderr }); err != nil {
			t.Fatalf("Create %s: %v", id, err)
		}
		if _, err := h.client.Start(h.ctx(), &taskapi.StartRequest{ID: id}); err != nil {
			t.Fatalf("Start %s: %v", id, err)
		}
		h.client.Wait(h.ctx(), &taskapi.WaitRequest{ID: id})
		if _, err := h.client.Delete(h.ctx(), &taskapi.DeleteRequest{ID: id}); err != nil {
			t.Errorf("Delete %s: %v", id, err)
		}
	}
	run("furi", b, "file://"+out, "file://"+out)
	if got, _ := os.ReadFile(out); !strings.Contains(string(got), "to-file\n") || !strings.Contains(string(got), "err-to-file\n") {
		t.Errorf("file:// destination got %q", got)
	}

	logger := filepath.Join(h.dir, "logger.sh")
	script := fmt.Sprintf("#!/bin/sh\necho \"$CONTAINER_ID $CONTAINER_NAMESPACE $*\" > %[1]s/logger-env\nexec 5>&-\ncat <&3 > %[1]s/logger-out &\ncat <&4 > %[1]s/logger-err &\nwait\n", h.dir)
	if err := os.WriteFile(logger, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	bb := h.bundle("buri", nil, "sh", "-c", "echo via-logger; echo err-via-logger >&2")
	run("buri", bb, "binary://"+logger+"?tag=x", "binary://"+logger+"?tag=x")
	deadline := time.Now().Add(5 * time.Second)
	for {
		o, _ := os.ReadFile(filepath.Join(h.dir, "logger-out"))
		e, _ := os.ReadFile(filepath.Join(h.dir, "logger-err"))
		if string(o) == "via-logger\n" && string(e) == "err-via-logger\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("binary:// logger got stdout %q stderr %q", o, e)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if env, _ := os.ReadFile(filepath.Join(h.dir, "logger-env")); string(env) != "buri "+h.ns+" tag x\n" {
		t.Errorf("logger saw %q, want %q", env, "buri "+h.ns+" tag x\n")
	}
}

// nothingLeftButExit checks what a deleted container leaves: its exit
// file only.
func nothingLeftButExit(t *testing.T, h *shimHarness, id, bundle string) {
	t.Helper()
	if isMounted(filepath.Join(bundle, "rootfs")) {
		t.Errorf("%s: rootfs still mounted", id)
	}
	if _, err := os.Stat(filepath.Join("/run/berth-runtime", h.ns, id)); err == nil {
		t.Errorf("%s: runtime state left", id)
	}
	if _, err := os.Stat(filepath.Join(bundle, "init.exit")); err != nil {
		t.Errorf("%s: exit file: %v", id, err)
	}
}

// TestShimGroup starts two containers of one group: they share a shim,
// which exits only after both are deleted.
func TestShimGroup(t *testing.T) {
	h := newShimHarness(t)
	group := map[string]string{"io.containerd.runc.v2.group": "g1"}
	b1 := h.bundle("g1a", group, "sleep", "1000")
	b2 := h.bundle("g1b", group, "sleep", "1000")
	h.start("g1a", b1)
	first := h.shimPid
	a1, _ := os.ReadFile(filepath.Join(b1, "address"))
	h.start("g1b", b2)
	a2, _ := os.ReadFile(filepath.Join(b2, "address"))
	if string(a1) != string(a2) || h.shimPid != first {
		t.Fatalf("group members got shims %d (%s) and %d (%s), want one", first, a1, h.shimPid, a2)
	}
	for _, c := range []struct{ id, b string }{{"g1a", b1}, {"g1b", b2}} {
		if _, err := h.create(c.id, c.b, nil); err != nil {
			t.Fatalf("Create %s: %v", c.id, err)
		}
		if _, err := h.client.Start(h.ctx(), &taskapi.StartRequest{ID: c.id}); err != nil {
			t.Fatalf("Start %s: %v", c.id, err)
		}
	}
	for i, id := range []string{"g1a", "g1b"} {
		h.client.Kill(h.ctx(), &taskapi.KillRequest{ID: id, Signal: 9})
		h.client.Wait(h.ctx(), &taskapi.WaitRequest{ID: id})
		if _, err := h.client.Delete(h.ctx(), &taskapi.DeleteRequest{ID: id}); err != nil {
			t.Errorf("Delete %s: %v", id, err)
		}
		h.client.Shutdown(h.ctx(), &taskapi.ShutdownRequest{ID: id})
		time.Sleep(200 * time.Millisecond)
		if alive := processAlive(h.shimPid); alive != (i == 0) {
			t.Errorf("after deleting %s: shim alive = %v, want %v", id, alive, i == 0)
		}
	}
	h.client = nil
}

// TestShimDeleteAction kills a shim and cleans up after it with the
// `delete` action, as containerd does for a dead shim.
func TestShimDeleteAction(t *testing.T) {
	h := newShimHarness(t)
	b := h.bundle("orphan", nil, "sleep", "1000")
	h.start("orphan", b)
	resp, err := h.create("orphan", b, nil)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := h.client.Start(h.ctx(), &taskapi.StartRequest{ID: "orphan"}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	h.conn.Close()
	h.client = nil
	syscall.Kill(h.shimPid, syscall.SIGKILL)

	cmd := exec.Command(filepath.Join(h.bin, "containerd-shim-berth-v2"), "-namespace", h.ns, "-address", h.address, "-id", "orphan", "-bundle", b, "delete")
	cmd.Dir = b
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("delete action: %v: %s", err, stderr.String())
	}
	var d taskapi.DeleteResponse
	if err := proto.Unmarshal(out, &d); err != nil {
		t.Fatalf("delete action output %q: %v", out, err)
	}
	if d.GetPid() != resp.GetPid() || d.GetExitStatus() != 137 || d.GetExitedAt() == nil {
		t.Errorf("DeleteResponse = %v, want pid %d, status 137", &d, resp.GetPid())
	}
	deadline := time.Now().Add(5 * time.Second)
	for processAlive(int(resp.GetPid())) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if processAlive(int(resp.GetPid())) {
		t.Errorf("container init %d survived the delete action", resp.GetPid())
	}
	if isMounted(filepath.Join(b, "rootfs")) {
		t.Errorf("rootfs still mounted after the delete action")
	}
	if _, err := os.Stat(filepath.Join("/run/berth-runtime", h.ns, "orphan")); err == nil {
		t.Errorf("runtime state left after the delete action")
	}
}
