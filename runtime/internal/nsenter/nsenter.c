// Runs before the Go runtime: see README.md. Kept small on purpose; the Go
// side does everything that can run after threads exist.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#define MAXNS 16

static int syncfd = -1;

static void sendmsgline(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	while (write(syncfd, buf, n) < 0 && errno == EINTR)
		;
}

static void bail(const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	int saved = errno;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (saved)
		sendmsgline("error %s: %s", buf, strerror(saved));
	else
		sendmsgline("error %s", buf);
	_exit(1);
}

/*
 * Joining cgroups without the kernel's global migration lock (see
 * JoinPlan in internal/cgroups): _BERTH_CGJOIN holds lines "tasks PATH"
 * (v1: writing "0" moves only the calling thread, which skips the lock;
 * we are still single-threaded) and "clone DIR required|optional"
 * (cgroup2: the fork into the pid namespace lands in DIR through
 * CLONE_INTO_CGROUP). cgjoin_v1 does the first kind and opens DIR.
 */
static int cg_fd = -1, cg_required;
static char cg_dir[4096];

static void writezero(const char *path, int required)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		if (required)
			bail("join cgroup %s", path);
	}
	if (fd >= 0)
		close(fd);
}

static void cgjoin_v1(void)
{
	const char *plan = getenv("_BERTH_CGJOIN");
	if (plan == NULL || *plan == '\0')
		return;
	char *copy = strdup(plan), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "tasks ", 6) == 0) {
			writezero(line + 6, 1);
		} else if (strncmp(line, "clone ", 6) == 0) {
			char *need = strrchr(line + 6, ' ');
			if (need == NULL)
				bail("bad cgroup join plan");
			*need++ = '\0';
			cg_required = strcmp(need, "required") == 0;
			snprintf(cg_dir, sizeof(cg_dir), "%s", line + 6);
			cg_fd = open(cg_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (cg_fd < 0 && cg_required)
				bail("open cgroup %s", cg_dir);
		} else {
			bail("bad cgroup join plan line %s", line);
		}
	}
	free(copy);
}

/* cgjoin_procs joins cg_dir the slow way (a cgroup.procs write). */
static void cgjoin_procs(void)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg_dir);
	writezero(path, cg_required);
}

/*
 * forkinto forks, the child in cg_dir when there is one: clone3 with
 * CLONE_INTO_CGROUP (Linux 5.7), else fork and a cgroup.procs write.
 */
static pid_t forkinto(void)
{
	if (cg_fd >= 0) {
		struct clone_args args;
		memset(&args, 0, sizeof(args));
		args.flags = CLONE_INTO_CGROUP;
		args.exit_signal = SIGCHLD;
		args.cgroup = (unsigned long)cg_fd;
		pid_t pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0)
			return pid;
		if (errno != ENOSYS && errno != E2BIG && errno != EINVAL && errno != EOPNOTSUPP)
			if (cg_required)
				bail("fork into cgroup %s", cg_dir);
	}
	pid_t pid = fork();
	if (pid == 0 && cg_fd >= 0)
		cgjoin_procs();
	return pid;
}

static void waitack(void)
{
	char c;
	ssize_t n;
	do
		n = read(syncfd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(1); /* parent gone: nothing to report to */
	if (c != 'A')
		_exit(1);
}

static int nstype(const char *name)
{
	static const struct {
		const char *name;
		int flag;
	} types[] = {
		{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC},
		{"uts", CLONE_NEWUTS},   {"net", CLONE_NEWNET},
		{"pid", CLONE_NEWPID},   {"mnt", CLONE_NEWNS},
		{"cgroup", CLONE_NEWCGROUP},
#ifdef CLONE_NEWTIME
		{"time", CLONE_NEWTIME},
#endif
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return types[i].flag;
	return 0;
}

/*
 * CVE-2019-5736: a container process can get the kernel to execute the
 * binary its init was started from (say with "#!/proc/self/exe" as the
 * entrypoint) and then reopen it for writing through /proc/PID/exe. So
 * the commands that start container processes (create, run, exec) first
 * move into a private mount namespace in which the binary is bind mounted
 * read-only over itself, and start their children through that path: the
 * children's executable is then on a read-only mount, and reopening it
 * for writing fails with EROFS. This costs a few mount calls; copying the
 * binary into a sealed memfd instead doubled the time of `run`.
 */
static const char *subcommand(int argc, char **argv)
{
	static const char *valued[] = {"--root", "--log", "--log-format", "--criu", "--rootless", NULL};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			return a;
		if (strchr(a, '=') != NULL)
			continue;
		for (int j = 0; valued[j]; j++)
			if (strcmp(a, valued[j]) == 0)
				i++;
	}
	return NULL;
}

/* Read by Go through Self(): Go does not see setenv from a constructor. */
char berth_self[4096];

/* nsjoin is a namespace to join: its clone flag, an open fd, its path. */
struct nsjoin {
	int flag;
	int fd;
	int done;
	char path[256];
};

/*
 * join_others joins the namespaces of join not joined yet, but the user
 * namespace; the mount namespace last. With tolerant, one refused for
 * lack of privilege is left for a later call. It returns the flags
 * joined.
 */
static int join_others(struct nsjoin *join, int njoin, int tolerant)
{
	int joined = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < njoin; i++) {
			if (join[i].flag == CLONE_NEWUSER || join[i].done)
				continue;
			if ((join[i].flag == CLONE_NEWNS) != (pass == 1))
				continue;
			if (setns(join[i].fd, join[i].flag) < 0) {
				if (tolerant && errno == EPERM)
					continue;
				bail("join namespace %s", join[i].path);
			}
			join[i].done = 1;
			joined |= join[i].flag;
		}
	}
	return joined;
}

/* Our original mount namespace, for containers that share it (Go: HostMountNS). */
int berth_hostns = -1;

static void protect_self(int argc, char **argv)
{
	const char *cmd = subcommand(argc, argv);
	if (cmd == NULL || (strcmp(cmd, "create") && strcmp(cmd, "run") && strcmp(cmd, "exec")))
		return;
	char self[sizeof(berth_self)];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	if (strstr(self, " (deleted)") != NULL)
		return;
	berth_hostns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (unshare(CLONE_NEWNS) < 0) {
		close(berth_hostns);
		berth_hostns = -1;
		return; /* not root: nothing to protect with mounts */
	}
	if (mount("", "/", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
	    mount(self, self, NULL, MS_BIND, NULL) < 0 ||
	    mount("", self, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return;
	memcpy(berth_self, self, n + 1);
}

void berth_nsenter(int argc, char **argv)
{
	const char *init = getenv("_BERTH_INIT");
	if (init == NULL || *init == '\0') {
		protect_self(argc, argv);
		return;
	}
	/* Not dumpable: container processes cannot open our /proc/PID files. */
	prctl(PR_SET_DUMPABLE, 0);
	const char *fdstr = getenv("_BERTH_SYNCFD");
	if (fdstr == NULL)
		_exit(1);
	syncfd = atoi(fdstr);

	struct nsjoin join[MAXNS];
	int njoin = 0, joined = 0;

	const char *spec = getenv("_BERTH_NSJOIN");
	if (spec != NULL && *spec != '\0') {
		char *copy = strdup(spec), *save = NULL;
		for (char *line = strtok_r(copy, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *sp = strchr(line, ' ');
			if (sp == NULL || njoin == MAXNS)
				bail("bad namespace join list");
			*sp = '\0';
			int flag = nstype(line);
			if (flag == 0)
				bail("unknown namespace type %s", line);
			snprintf(join[njoin].path, sizeof(join[njoin].path), "%s", sp + 1);
			join[njoin].flag = flag;
			join[njoin].done = 0;
			join[njoin].fd = open(sp + 1, O_RDONLY | O_CLOEXEC);
			if (join[njoin].fd < 0)
				bail("open namespace %s", sp + 1);
			njoin++;
		}
		free(copy);
	}
	const char *newstr = getenv("_BERTH_NSNEW");
	int newflags = newstr ? atoi(newstr) : 0;

	/*
	 * The other namespaces first, while we are still privileged where
	 * they belong: those joined by path can belong to the host's user
	 * namespace (berthd's network namespace), where a process that
	 * entered or made a user namespace has no privilege left. Those that
	 * need the user namespace (a caller without privilege on the host)
	 * are joined after it.
	 */
	joined |= join_others(join, njoin, 1);
	for (int i = 0; i < njoin; i++) {
		if (join[i].flag != CLONE_NEWUSER)
			continue;
		if (setns(join[i].fd, CLONE_NEWUSER) < 0)
			bail("join user namespace %s", join[i].path);
		joined |= CLONE_NEWUSER;
	}
	if (newflags & CLONE_NEWUSER && !(joined & CLONE_NEWUSER)) {
		if (unshare(CLONE_NEWUSER) < 0)
			bail("create user namespace");
		/* The parent writes our uid_map and gid_map. */
		prctl(PR_SET_DUMPABLE, 1);
		sendmsgline("userns %d", getpid());
		waitack();
		prctl(PR_SET_DUMPABLE, 0);
	}
	if (joined & CLONE_NEWUSER || newflags & CLONE_NEWUSER) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			bail("become root in the user namespace");
	}
	joined |= join_others(join, njoin, 0);
	for (int i = 0; i < njoin; i++)
		close(join[i].fd);

	sendmsgline("stage1 %d", getpid());
	waitack(); /* in the container's cgroup now, or ready for us to join */
	cgjoin_v1();

	int pidns = (newflags | joined) & CLONE_NEWPID;
	/*
	 * A new cgroup namespace is rooted where its creator is, so it is
	 * made once every cgroup is joined: in the child when the cgroup2
	 * one is joined by the fork.
	 */
	int late = (newflags & CLONE_NEWCGROUP) && cg_fd >= 0 && pidns;
	if (cg_fd >= 0 && !pidns)
		cgjoin_procs();
	int now = newflags & ~CLONE_NEWUSER & ~(late ? CLONE_NEWCGROUP : 0);
	if (now) {
		if (unshare(now) < 0)
			bail("create namespaces (flags 0x%x)", now);
	}
	if (pidns) {
		pid_t child = forkinto();
		if (child < 0)
			bail("fork into the pid namespace");
		if (child > 0) {
			sendmsgline("pid %d", child);
			_exit(0);
		}
		if (late && unshare(CLONE_NEWCGROUP) < 0)
			bail("create cgroup namespace");
	} else {
		sendmsgline("pid %d", getpid());
	}
	if (cg_fd >= 0)
		close(cg_fd);
}
