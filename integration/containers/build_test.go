package containers

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeContext writes files (name → content) into a new build context.
func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var builtRE = regexp.MustCompile(`Successfully built ([0-9a-f]{12})`)

func builtID(t *testing.T, out string) string {
	t.Helper()
	m := builtRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no 'Successfully built' in:\n%s", out)
	}
	return m[1]
}

// TestBuild builds an image with the common instructions, runs it,
// inspects it, and rebuilds it with and without the cache.
func TestBuild(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": `# a comment
FROM busybox
ARG GREETING=hello
ENV WHO=world \
    GREETING_COPY=${GREETING}
workdir /app
COPY hello.txt ./
COPY dir /app/dir/
LABEL org.test.kind="built image" version=1
RUN echo "$GREETING $WHO" > /app/out.txt && \
    cat /app/hello.txt
CMD ["sh", "-c", "cat /app/out.txt /app/hello.txt /app/dir/a /app/dir/sub/b; pwd"]
EXPOSE 8080
`,
		"hello.txt":  "from the context\n",
		"dir/a":      "file a\n",
		"dir/sub/b":  "file b\n",
		"secret.txt": "do not send\n",
	})
	out := d.ok("build", "-t", "built:1", "--build-arg", "GREETING=hi", ctx)
	for _, want := range []string{"Step 1/10 : FROM busybox", "Step 8/10 : RUN echo", " ---> Running in ", "from the context", "Successfully tagged built:1"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
	id := builtID(t, out)

	got := d.ok("run", "--rm", "built:1")
	want := "hi world\nfrom the context\nfile a\nfile b\n/app\n"
	if got != want {
		t.Errorf("run printed %q, want %q", got, want)
	}
	img := d.inspect("built:1")
	env := strings.Join(toStrings(field(img, "Config", "Env")), " ")
	if !strings.Contains(env, "WHO=world") || !strings.Contains(env, "GREETING_COPY=hi") || strings.Contains(env, "GREETING=hi ") {
		t.Errorf("Env = %v", env)
	}
	if cmd := toStrings(field(img, "Config", "Cmd")); len(cmd) != 3 || cmd[0] != "sh" {
		t.Errorf("Cmd = %v", cmd)
	}
	if wd := field(img, "Config", "WorkingDir"); wd != "/app" {
		t.Errorf("WorkingDir = %v", wd)
	}
	if l := field(img, "Config", "Labels", "org.test.kind"); l != "built image" {
		t.Errorf("Labels = %v", field(img, "Config", "Labels"))
	}
	if _, ok := field(img, "Config", "ExposedPorts").(map[string]any)["8080/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v", field(img, "Config", "ExposedPorts"))
	}
	// Layers: busybox's plus one per COPY and RUN (3) and one for the
	// WORKDIR that made /app, none for config.
	base := len(toStrings(field(d.inspect("busybox"), "RootFS", "Layers")))
	if n := len(toStrings(field(img, "RootFS", "Layers"))); n != base+4 {
		t.Errorf("image has %d layers, want %d", n, base+4)
	}

	// The steps' images are intermediate: hidden by `images`, shown by
	// `images -a`, kept by `image prune` (they are the build cache).
	if out := d.ok("images"); strings.Contains(out, "<none>") {
		t.Errorf("images shows intermediate images:\n%s", out)
	}
	if out := d.ok("images", "-a"); !strings.Contains(out, "<none>") {
		t.Errorf("images -a shows no intermediate image:\n%s", out)
	}
	if got := d.out("inspect", "-f", "{{.Parent}}", "built:1"); !strings.HasPrefix(got, "sha256:") {
		t.Errorf("built image's Parent = %q", got)
	}
	d.ok("image", "prune", "-f")
	out = d.ok("build", "-t", "built:1", "--build-arg", "GREETING=hi", ctx)
	if !strings.Contains(out, "---> Using cache") || builtID(t, out) != id || strings.Contains(out, "Running in") {
		t.Errorf("rebuild after image prune did not use the cache (want %s):\n%s", id, out)
	}
	out = d.ok("build", "--no-cache", "-t", "built:1", "--build-arg", "GREETING=hi", ctx)
	if strings.Contains(out, "Using cache") || !strings.Contains(out, "Running in") || builtID(t, out) == id {
		t.Errorf("--no-cache build used the cache:\n%s", out)
	}
	// Another build arg value changes what RUN sees: no cache for it.
	out = d.ok("build", "-t", "built:2", "--build-arg", "GREETING=hey", ctx)
	if !strings.Contains(out, "Running in") {
		t.Errorf("build with another build arg reused RUN's cache:\n%s", out)
	}
	if got := d.ok("run", "--rm", "built:2"); !strings.HasPrefix(got, "hey world\n") {
		t.Errorf("run built:2 printed %q", got)
	}
	if ps := d.out("ps", "-aq"); ps != "" {
		t.Errorf("build left containers: %s", ps)
	}
}

func toStrings(v any) []string {
	a, _ := v.([]any)
	var out []string
	for _, e := range a {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// TestBuildFailingRun: a failing RUN ends the build with Docker's message
// and exit code, and leaves no container.
func TestBuildFailingRun(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo before\nRUN false\nCMD echo never\n"})
	r := d.fails("build", "-t", "broken", ctx)
	if r.code != 1 || !strings.Contains(r.stderr, "The command '/bin/sh -c false' returned a non-zero code: 1") {
		t.Errorf("failing build: %v", r)
	}
	if ps := d.out("ps", "-aq"); ps != "" {
		t.Errorf("failed build left containers: %s", ps)
	}
	if r := d.berth("inspect", "broken"); r.code == 0 {
		t.Errorf("failed build tagged its image")
	}
}

// TestBuildDockerignore: the CLI leaves out what .dockerignore names.
func TestBuildDockerignore(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile":    "FROM busybox\nCOPY . /ctx/\nCMD find /ctx -type f\n",
		".dockerignore": "# secrets\nsecret.txt\nlogs\n*.tmp\n!keep.tmp\n",
		"secret.txt":    "x", "keep.tmp": "k", "drop.tmp": "d", "logs/a.log": "l", "ok.txt": "ok",
	})
	d.ok("build", "-t", "ign", ctx)
	got := d.ok("run", "--rm", "ign")
	for _, f := range []string{"/ctx/ok.txt", "/ctx/keep.tmp", "/ctx/Dockerfile"} {
		if !strings.Contains(got, f+"\n") {
			t.Errorf("%s missing from image: %s", f, got)
		}
	}
	for _, f := range []string{"secret.txt", "drop.tmp", "a.log"} {
		if strings.Contains(got, f) {
			t.Errorf("%s should have been ignored: %s", f, got)
		}
	}
}

// TestBuildCopyOutsideContext: COPY cannot read outside the context, by
// path or through a symlink.
func TestBuildCopyOutsideContext(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY ../x /x\n"})
	r := d.fails("build", ctx)
	if !strings.Contains(r.stderr, "outside the build context") {
		t.Errorf("COPY ../x: %v", r)
	}
	ctx = writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY passwd /x\n"})
	if err := os.Symlink("/etc/passwd", filepath.Join(ctx, "passwd")); err != nil {
		t.Fatal(err)
	}
	r = d.fails("build", ctx)
	if !strings.Contains(r.stderr, "COPY failed") {
		t.Errorf("COPY through an escaping symlink: %v", r)
	}
	ctx = writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nFROBNICATE now\n"})
	r = d.fails("build", ctx)
	if !strings.Contains(r.stderr, "line 2: unknown instruction: FROBNICATE") {
		t.Errorf("unknown instruction: %v", r)
	}
	if ps := d.out("ps", "-aq"); ps != "" {
		t.Errorf("builds left containers: %s", ps)
	}
}

// TestBuildQuiet: -q prints only the image ID.
func TestBuildQuiet(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo noisy\nENV A=b\n"})
	out := strings.TrimSpace(d.ok("build", "-q", "-t", "quiet", ctx))
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(out) {
		t.Errorf("build -q printed %q", out)
	}
	if id := d.out("images", "-q", "--no-trunc", "quiet"); id != out {
		t.Errorf("images -q quiet = %q, want %q", id, out)
	}
}

// TestBuildMultiStage: COPY --from a named stage.
func TestBuildMultiStage(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM busybox AS gen\nRUN mkdir /out && echo generated > /out/f\nFROM busybox\nCOPY --from=gen /out/f /f\nCMD [\"cat\", \"/f\"]\n"})
	d.ok("build", "-t", "multi", ctx)
	if got := d.ok("run", "--rm", "multi"); got != "generated\n" {
		t.Errorf("run multi printed %q", got)
	}
}

// TestBuildScratch: COPY right after FROM scratch makes the image's only
// layer (a static binary image), which runs.
func TestBuildScratch(t *testing.T) {
	d := startBerthd(t)
	bb, err := os.ReadFile("/bin/busybox") // Debian's busybox-static
	if err != nil {
		t.Fatalf("no static busybox (make deps installs busybox-static): %v", err)
	}
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"/bin/busybox\", \"echo\", \"from scratch\"]\n",
	})
	if err := os.WriteFile(filepath.Join(ctx, "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	d.ok("build", "-t", "scratchy:1", ctx)
	if got := d.ok("run", "--rm", "scratchy:1"); got != "from scratch\n" {
		t.Errorf("run scratchy:1 printed %q", got)
	}
	if n := len(toStrings(field(d.inspect("scratchy:1"), "RootFS", "Layers"))); n != 1 {
		t.Errorf("scratch image has %d layers, want 1", n)
	}
	// RUN has no shell to run in an empty image: a clear error.
	ctx2 := writeContext(t, map[string]string{"Dockerfile": "FROM scratch\nRUN true\n"})
	if r := d.fails("build", ctx2); !strings.Contains(r.stderr+r.stdout, "RUN") {
		t.Errorf("RUN on scratch: %v", r)
	}
}

// TestBuildShellAndHealthcheck: SHELL changes how shell-form RUN and CMD
// run; HEALTHCHECK is recorded in the image config.
func TestBuildShellAndHealthcheck(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nSHELL [\"/bin/sh\", \"-ec\"]\nRUN echo \"$0\" > /shell-was\n" +
			"HEALTHCHECK --interval=7s --retries=2 CMD test -f /shell-was\nCMD cat /shell-was\n",
	})
	d.ok("build", "-t", "shelly:1", ctx)
	// With -ec, the command is $0-less: sh names itself.
	if got := d.ok("run", "--rm", "shelly:1"); !strings.Contains(got, "sh") {
		t.Errorf("run shelly:1 printed %q", got)
	}
	if got := d.out("inspect", "-f", "{{json .Config.Shell}} {{json .Config.Cmd}}", "shelly:1"); got != `["/bin/sh","-ec"] ["/bin/sh","-ec","cat /shell-was"]` {
		t.Errorf("Shell and Cmd: %s", got)
	}
	if got := d.out("inspect", "-f", "{{json .Config.Healthcheck}}", "shelly:1"); !strings.Contains(got, `"Test":["CMD-SHELL","test -f /shell-was"]`) || !strings.Contains(got, `"Interval":7000000000`) || !strings.Contains(got, `"Retries":2`) {
		t.Errorf("Healthcheck: %s", got)
	}
}

// TestBuildCopyChown: --chown takes names (through the image's
// /etc/passwd and /etc/group) or numbers; without a group the gid is the
// uid's number, as in Docker. An unknown name fails the build naming it.
func TestBuildCopyChown(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\n" +
			"COPY --chown=nobody:tty f /names\n" +
			"COPY --chown=nobody f /user-only\n" +
			"COPY --chown=7:nogroup f /mixed\n" +
			"COPY --chown=12:34 f /numbers\n" +
			"COPY --chown=1234 f /uid-only\n" +
			"CMD stat -c '%n %u:%g' /names /user-only /mixed /numbers /uid-only\n",
		"f": "x\n",
	})
	d.ok("build", "-t", "chown:1", ctx)
	want := "/names 65534:5\n/user-only 65534:65534\n/mixed 7:65534\n/numbers 12:34\n/uid-only 1234:1234\n"
	if got := d.ok("run", "--rm", "chown:1"); got != want {
		t.Errorf("owners:\n%s\nwant\n%s", got, want)
	}
	// A rebuild from the cache resolves no names: no container is made.
	if n := d.containersMadeBy(func() { d.ok("build", "-t", "chown:1", ctx) }); n != 0 {
		t.Errorf("a cached rebuild made %d containers", n)
	}
	for _, df := range []string{"FROM busybox\nCOPY --chown=nosuchuser f /x\n", "FROM busybox\nCOPY --chown=root:nosuchgroup f /x\n"} {
		ctx := writeContext(t, map[string]string{"Dockerfile": df, "f": "x\n"})
		r := d.fails("build", ctx)
		if !strings.Contains(r.stderr, "nosuch") || !strings.Contains(r.stderr, "--chown") {
			t.Errorf("%q: %v; want an error naming the --chown value", df, r)
		}
	}
	if ps := d.out("ps", "-aq"); ps != "" {
		t.Errorf("builds left containers: %s", ps)
	}
}

// TestBuildCopyChmod: --chmod sets the permission bits of what COPY
// copies, directories included, also from another stage; a mode that is
// not octal fails the build.
func TestBuildCopyChmod(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox AS first\n" +
			"COPY --chmod=600 f /f\n" +
			"FROM busybox\n" +
			"COPY --chmod=750 f /exec\n" +
			"COPY --chmod=0700 dir /dir\n" +
			"COPY --from=first --chmod=644 /f /from-first\n" +
			"CMD stat -c '%n %a' /exec /dir/sub /dir/g /from-first\n",
		"f":         "x\n",
		"dir/g":     "y\n",
		"dir/sub/h": "z\n",
	})
	d.ok("build", "-t", "chmod:1", ctx)
	want := "/exec 750\n/dir/sub 700\n/dir/g 700\n/from-first 644\n"
	if got := d.ok("run", "--rm", "chmod:1"); got != want {
		t.Errorf("modes:\n%s\nwant\n%s", got, want)
	}
	bad := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY --chmod=u+x f /f\n", "f": "x\n"})
	if r := d.fails("build", bad); !strings.Contains(r.stderr, "--chmod=u+x") {
		t.Errorf("symbolic --chmod: %v; want an error naming it", r)
	}
}

// TestBuildOnbuild: ONBUILD records triggers that run right after a later
// build's FROM of the image and are not carried on; the base's
// HEALTHCHECK and SHELL are. ONBUILD FROM and ONBUILD ONBUILD are refused.
func TestBuildOnbuild(t *testing.T) {
	d := startBerthd(t)
	base := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\n" +
		"HEALTHCHECK --interval=5s CMD true\n" +
		"SHELL [\"/bin/sh\", \"-ec\"]\n" +
		"ONBUILD RUN echo triggered > /trig\n" +
		"ONBUILD ENV FROMBASE=yes\n"})
	d.ok("build", "-t", "onb-base:1", base)
	if ob := field(d.inspect("onb-base:1"), "Config", "OnBuild"); fmt.Sprint(ob) != "[RUN echo triggered > /trig ENV FROMBASE=yes]" {
		t.Errorf("base OnBuild = %v", ob)
	}
	child := writeContext(t, map[string]string{"Dockerfile": "FROM onb-base:1\nRUN test \"$FROMBASE\" = yes\nCMD cat /trig\n"})
	out := d.ok("build", "-t", "onb-child:1", child)
	if !strings.Contains(out, "# Executing 2 build triggers") {
		t.Errorf("build output lacks the triggers:\n%s", out)
	}
	if got := d.ok("run", "--rm", "onb-child:1"); got != "triggered\n" {
		t.Errorf("child run: %q", got)
	}
	img := d.inspect("onb-child:1")
	if ob := field(img, "Config", "OnBuild"); ob != nil && len(toStrings(ob)) > 0 {
		t.Errorf("child OnBuild = %v, want none", ob)
	}
	if hc := field(img, "Config", "Healthcheck", "Test"); fmt.Sprint(hc) != "[CMD-SHELL true]" {
		t.Errorf("child Healthcheck.Test = %v, want the base's", hc)
	}
	if sh := field(img, "Config", "Shell"); fmt.Sprint(sh) != "[/bin/sh -ec]" {
		t.Errorf("child Shell = %v, want the base's", sh)
	}
	grand := writeContext(t, map[string]string{"Dockerfile": "FROM onb-child:1\nRUN rm /trig\n"})
	if out := d.ok("build", "-t", "onb-grand:1", grand); strings.Contains(out, "build trigger") {
		t.Errorf("the triggers ran again in a grandchild:\n%s", out)
	}
	for _, df := range []string{"FROM busybox\nONBUILD FROM busybox\n", "FROM busybox\nONBUILD ONBUILD RUN true\n"} {
		r := d.fails("build", writeContext(t, map[string]string{"Dockerfile": df}))
		if !strings.Contains(r.stderr, "isn't allowed as an ONBUILD trigger") {
			t.Errorf("%q: %v", df, r)
		}
	}
}

// TestBuildWorkdir: WORKDIR creates a missing directory (and its missing
// parents) in the image, as Docker does, leaving existing ones as they
// are; a WORKDIR on a file fails.
func TestBuildWorkdir(t *testing.T) {
	d := startBerthd(t)
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nWORKDIR /tmp/made/here\nWORKDIR /etc\nCMD stat -c '%n %a %u' /tmp /tmp/made /tmp/made/here\n"})
	d.ok("build", "-t", "wd:1", ctx)
	if n := d.containersMadeBy(func() { d.ok("build", "-t", "wd:1", ctx) }); n != 0 {
		t.Errorf("a cached rebuild made %d containers", n)
	}
	if got, want := d.ok("run", "--rm", "--entrypoint", "", "-w", "/", "wd:1", "stat", "-c", "%n %a %u", "/tmp", "/tmp/made", "/tmp/made/here"), "/tmp 1777 0\n/tmp/made 755 0\n/tmp/made/here 755 0\n"; got != want {
		t.Errorf("directories:\n%s\nwant\n%s", got, want)
	}
	if wd := d.out("image", "inspect", "-f", "{{.Config.WorkingDir}}", "wd:1"); wd != "/etc" {
		t.Errorf("WorkingDir = %q", wd)
	}
	bad := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nWORKDIR /etc/passwd/x\n"})
	if r := d.fails("build", bad); !strings.Contains(r.stderr, "is not a directory") {
		t.Errorf("WORKDIR under a file: %v", r)
	}
}

// containersMadeBy runs fn and counts the containers berthd created
// meanwhile (its create events).
func (d *daemon) containersMadeBy(fn func()) int {
	d.t.Helper()
	now := time.Now()
	since := fmt.Sprintf("%d.%09d", now.Unix(), now.Nanosecond())
	fn()
	out := d.out("events", "--since", since, "--until", fmt.Sprint(time.Now().Unix()+1), "-f", "type=container", "-f", "event=create", "--format", "{{.ID}}")
	return len(lines(out))
}
