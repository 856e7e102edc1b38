package sandbox

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Mode says how a process is isolated.
type Mode string

const (
	// ModeBwrap isolates with bubblewrap (the default where it runs).
	ModeBwrap Mode = "bwrap"
	// ModeNone runs without isolation: only limits, the timeout and the
	// process-group kill apply. It must be asked for explicitly.
	ModeNone Mode = "none"
)

// ParseMode reads a --sandbox value. "" and "auto" mean bubblewrap.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto", "bwrap", "bubblewrap":
		return ModeBwrap, nil
	case "none", "off":
		return ModeNone, nil
	case "docker":
		return "", fmt.Errorf("sandbox %q is not supported: sia isolates harnesses with bubblewrap (--sandbox bwrap, the default) or not at all (--sandbox none)", s)
	}
	return "", fmt.Errorf("unknown sandbox %q (want bwrap or none)", s)
}

// Mount makes a host folder or file visible inside the sandbox, at the
// same path (so paths mean the same inside and out, in both modes).
type Mount struct {
	Path     string // absolute host path
	Writable bool
}

// Limits bound what the process may use. A zero field takes its value
// from DefaultLimits.
type Limits struct {
	Memory    int64         // address space per process, bytes (RLIMIT_AS)
	Processes int           // processes and threads of the sandbox user (RLIMIT_NPROC)
	OpenFiles int           // open file descriptors per process
	FileSize  int64         // largest file it may write, bytes
	Disk      int64         // total bytes the writable mounts may hold
	Tmp       int64         // size of the private /tmp, bytes
	CPU       time.Duration // CPU time per process
}

// DefaultLimits are generous for a Python harness that trains a small
// model, and small enough that a bomb of any kind ends quickly.
var DefaultLimits = Limits{
	Memory:    4 << 30,
	Processes: 256,
	OpenFiles: 512,
	FileSize:  256 << 20,
	Disk:      1 << 30,
	Tmp:       256 << 20,
	CPU:       time.Hour,
}

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Memory > 0 {
		d.Memory = l.Memory
	}
	if l.Processes > 0 {
		d.Processes = l.Processes
	}
	if l.OpenFiles > 0 {
		d.OpenFiles = l.OpenFiles
	}
	if l.FileSize > 0 {
		d.FileSize = l.FileSize
	}
	if l.Disk > 0 {
		d.Disk = l.Disk
	}
	if l.Tmp > 0 {
		d.Tmp = l.Tmp
	}
	if l.CPU > 0 {
		d.CPU = l.CPU
	}
	return d
}

// Policy is one sandboxed command: everything it may see and use.
type Policy struct {
	// Argv is the command; Argv[0] is an absolute path visible inside.
	Argv []string
	// Dir is the working directory (inside; it must be under a Mount).
	Dir string
	// Env is the whole environment: nothing of sia's own is inherited.
	Env map[string]string
	// Mounts are the folders and files it may see besides the runtime.
	Mounts []Mount
	// Limits bound its resources.
	Limits Limits
	// Timeout kills it, and everything it started, when it passes.
	Timeout time.Duration
	// Gateway, when set, is the one network endpoint the process may
	// reach. Under bubblewrap the process gets its own network namespace
	// with nothing but loopback, so nothing else — not sia web's
	// dashboard, not any other local service — is reachable from it.
	Gateway *GatewayProxy
}

// GatewayProxy carries the sandbox's only connection out: a proxy inside
// the sandbox listens on Listen (a loopback host:port, the address the
// process is told) and forwards each connection to the Unix socket Socket,
// which sia serves on the host and bind-mounts in. Proxy is the sia
// executable that runs the proxy (as NetProxyArg).
type GatewayProxy struct {
	Listen string
	Socket string
	Proxy  string
}

// Nobody is the unprivileged user a sandbox started by root runs as.
const Nobody = 65534

// runtimeDirs are the host folders every sandbox sees read-only: the
// system's programs and libraries. On merged-/usr systems /bin, /lib, /lib64
// and /sbin are symlinks into /usr and are recreated as such.
var runtimeDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// etcFiles are the few /etc entries programs need to start and to reach
// loopback: the dynamic linker's cache, name resolution, users, TLS roots,
// time zone, and Debian's alternatives (BLAS libraries resolve through it).
var etcFiles = []string{
	"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
	"/etc/passwd", "/etc/group", "/etc/ssl", "/etc/ca-certificates", "/etc/pki",
	"/etc/localtime", "/etc/timezone", "/etc/mime.types", "/etc/os-release",
}

// host describes what Args needs to know of the machine; tests pass their
// own.
type host struct {
	root     bool                   // sia runs as root
	symlinks map[string]string      // runtime dirs that are symlinks → target
	exists   func(path string) bool // for runtime dirs and etc files
	tools    struct{ setpriv, prlimit string }
}

// bwrapArgs is the bubblewrap argument list (without the bwrap binary)
// that runs p.Argv under the policy.
func bwrapArgs(h host, p Policy) []string {
	l := p.Limits.withDefaults()
	a := []string{
		"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--unshare-net",
		"--die-with-parent", "--new-session", "--clearenv",
	}
	if !h.root {
		// Unprivileged bwrap runs in a user namespace; keep the process
		// from making more (it could otherwise gain capabilities there).
		a = append(a, "--unshare-user", "--disable-userns")
	}
	for _, d := range runtimeDirs {
		if t, ok := h.symlinks[d]; ok {
			a = append(a, "--symlink", t, d)
		} else if h.exists(d) {
			a = append(a, "--ro-bind", d, d)
		}
	}
	for _, f := range etcFiles {
		if h.exists(f) {
			a = append(a, "--ro-bind", f, f)
		}
	}
	a = append(a, "--proc", "/proc", "--dev", "/dev",
		"--perms", "1777", "--size", strconv.FormatInt(l.Tmp, 10), "--tmpfs", "/tmp")
	made := map[string]bool{"/": true, "/tmp": true, "/proc": true, "/dev": true}
	for _, d := range runtimeDirs {
		made[d] = true
	}
	mounts := p.Mounts
	if g := p.Gateway; g != nil {
		mounts = append(append([]Mount(nil), mounts...), Mount{Path: g.Socket, Writable: true}, Mount{Path: g.Proxy})
	}
	for _, m := range sortedMounts(mounts) {
		// bwrap would create missing parents with the host's modes (a
		// 0700 /root would hide a pyenv interpreter from nobody): make
		// them 0755 first.
		for _, anc := range ancestors(m.Path) {
			if made[anc] || underAny(anc, mounts, m.Path) {
				continue
			}
			made[anc] = true
			a = append(a, "--perms", "0755", "--dir", anc)
		}
		op := "--ro-bind"
		if m.Writable {
			op = "--bind"
		}
		a = append(a, op, m.Path, m.Path)
		made[m.Path] = true
	}
	for _, k := range sortedKeys(p.Env) {
		a = append(a, "--setenv", k, p.Env[k])
	}
	if p.Dir != "" {
		a = append(a, "--chdir", p.Dir)
	}
	a = append(a, "--")
	if h.root {
		a = append(a, h.tools.setpriv, "--reuid="+strconv.Itoa(Nobody), "--regid="+strconv.Itoa(Nobody),
			"--clear-groups", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--")
	}
	if g := p.Gateway; g != nil {
		// After the uid switch: the proxy runs as the sandbox user, before
		// the limits (which are the harness's).
		a = append(a, g.Proxy, NetProxyArg, "--listen", g.Listen, "--to", g.Socket, "--")
	}
	a = append(a, prlimitArgs(h.tools.prlimit, l)...)
	return append(a, p.Argv...)
}

// prlimitArgs sets the per-process limits, then runs what follows.
func prlimitArgs(prlimit string, l Limits) []string {
	cpu := int64(l.CPU / time.Second)
	if cpu < 1 {
		cpu = 1
	}
	return []string{prlimit,
		"--as=" + strconv.FormatInt(l.Memory, 10),
		"--nproc=" + strconv.Itoa(l.Processes),
		"--nofile=" + strconv.Itoa(l.OpenFiles),
		"--fsize=" + strconv.FormatInt(l.FileSize, 10),
		"--cpu=" + strconv.FormatInt(cpu, 10),
		"--core=0",
		"--"}
}

// sortedMounts orders mounts so a parent is bound before what lies in it.
func sortedMounts(ms []Mount) []Mount {
	out := append([]Mount(nil), ms...)
	sort.SliceStable(out, func(i, j int) bool {
		return strings.Count(out[i].Path, "/") < strings.Count(out[j].Path, "/")
	})
	return out
}

// ancestors lists p's parent folders from the top, "/" excluded.
func ancestors(p string) []string {
	var out []string
	for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
		out = append([]string{d}, out...)
	}
	return out
}

// underAny reports whether dir lies inside one of the mounts (other than
// self), or inside a runtime dir: it exists there already.
func underAny(dir string, ms []Mount, self string) bool {
	for _, m := range ms {
		if m.Path != self && within(dir, m.Path) {
			return true
		}
	}
	for _, d := range runtimeDirs {
		if within(dir, d) {
			return true
		}
	}
	return false
}

// within reports whether p is dir or lies under it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validate checks a policy before anything starts.
func (p Policy) validate() error {
	if len(p.Argv) == 0 || !filepath.IsAbs(p.Argv[0]) {
		return fmt.Errorf("sandbox: the command must be an absolute path (got %q)", p.Argv)
	}
	if p.Timeout <= 0 {
		return fmt.Errorf("sandbox: timeout must be positive (got %s)", p.Timeout)
	}
	for _, m := range p.Mounts {
		if !filepath.IsAbs(m.Path) || filepath.Clean(m.Path) != m.Path || m.Path == "/" {
			return fmt.Errorf("sandbox: mount %q must be a clean absolute path other than /", m.Path)
		}
	}
	if p.Dir != "" && !filepath.IsAbs(p.Dir) {
		return fmt.Errorf("sandbox: working dir %q must be absolute", p.Dir)
	}
	if g := p.Gateway; g != nil && (!filepath.IsAbs(g.Socket) || !filepath.IsAbs(g.Proxy) || g.Listen == "") {
		return fmt.Errorf("sandbox: the gateway proxy needs an absolute socket and executable and a listen address")
	}
	return nil
}
