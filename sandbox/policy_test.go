package sandbox

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The policy is data: the bwrap argument list says what is visible,
// writable and limited, and it differs for root only in the uid switch.
func TestBwrapArgs(t *testing.T) {
	exists := map[string]bool{"/usr": true, "/etc/hosts": true, "/etc/passwd": true}
	mk := func(root bool) host {
		h := host{root: root, symlinks: map[string]string{"/bin": "usr/bin", "/lib": "usr/lib"},
			exists: func(p string) bool { return exists[p] }}
		h.tools.setpriv, h.tools.prlimit = "/usr/bin/setpriv", "/usr/bin/prlimit"
		return h
	}
	p := Policy{
		Argv:    []string{"/opt/py/bin/python3", "agent.py"},
		Dir:     "/r/w",
		Env:     map[string]string{"B": "2", "A": "1"},
		Mounts:  []Mount{{Path: "/r/w", Writable: true}, {Path: "/root/.pyenv/versions/3.11"}, {Path: "/r/view"}},
		Limits:  Limits{Memory: 1 << 30, Processes: 32},
		Timeout: time.Minute,
	}
	for _, tc := range []struct {
		name       string
		root       bool
		want       []string // in this order, not necessarily adjacent
		wantAbsent []string
	}{
		{"root", true, []string{
			"--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session", "--clearenv",
			"--ro-bind /usr /usr", "--symlink usr/bin /bin", "--symlink usr/lib /lib",
			"--ro-bind /etc/hosts /etc/hosts", "--ro-bind /etc/passwd /etc/passwd",
			"--proc /proc", "--dev /dev", "--perms 1777 --size 268435456 --tmpfs /tmp",
			"--perms 0755 --dir /r",
			"--perms 0755 --dir /root", "--perms 0755 --dir /root/.pyenv", "--perms 0755 --dir /root/.pyenv/versions",
			"--ro-bind /root/.pyenv/versions/3.11 /root/.pyenv/versions/3.11",
			"--setenv A 1 --setenv B 2", "--chdir /r/w", "--",
			"/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups --bounding-set=-all --inh-caps=-all --no-new-privs --",
			"/usr/bin/prlimit --as=1073741824 --nproc=32 --nofile=512 --fsize=268435456 --cpu=3600 --core=0 --",
			"/opt/py/bin/python3 agent.py",
		}, []string{"--unshare-user", "--ro-bind / /", "--share-net", "/etc/shadow", "/home", "__netproxy"}},
		{"user", false, []string{
			"--unshare-pid", "--unshare-user", "--disable-userns", "--ro-bind /usr /usr",
			"--bind /r/w /r/w", "--ro-bind /r/view /r/view", "--",
			"/usr/bin/prlimit --as=1073741824", "/opt/py/bin/python3 agent.py",
		}, []string{"setpriv", "--ro-bind / /"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(bwrapArgs(mk(tc.root), p), " ")
			at := 0
			for _, w := range tc.want {
				i := strings.Index(got[at:], w)
				if i < 0 {
					t.Fatalf("missing %q (in order) in:\n%s", w, got)
				}
				at += i + len(w)
			}
			for _, w := range tc.wantAbsent {
				if strings.Contains(got, w) {
					t.Errorf("has %q:\n%s", w, got)
				}
			}
			// /r is created once, before either mount under it.
			if n := strings.Count(got, "--dir /r "); n != 1 {
				t.Errorf("--dir /r appears %d times", n)
			}
		})
	}
}

// With a gateway, the one way out is the proxy, started as the sandbox
// user before the harness's limits, with the socket and the proxy binary
// mounted in.
func TestBwrapArgsGateway(t *testing.T) {
	h := host{root: true, symlinks: map[string]string{}, exists: func(string) bool { return false }}
	h.tools.setpriv, h.tools.prlimit = "/usr/bin/setpriv", "/usr/bin/prlimit"
	p := Policy{Argv: []string{"/usr/bin/python3"}, Timeout: time.Minute,
		Gateway: &GatewayProxy{Listen: "127.0.0.1:4321", Socket: "/tmp/gw/s", Proxy: "/opt/sia/sia"}}
	got := strings.Join(bwrapArgs(h, p), " ")
	for _, w := range []string{"--unshare-net", "--bind /tmp/gw/s /tmp/gw/s", "--ro-bind /opt/sia/sia /opt/sia/sia",
		"--no-new-privs -- /opt/sia/sia __netproxy --listen 127.0.0.1:4321 --to /tmp/gw/s -- /usr/bin/prlimit"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	ok := Policy{Argv: []string{"/bin/true"}, Timeout: time.Second, Mounts: []Mount{{Path: "/a/b"}}}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Policy){
		"relative command": func(p *Policy) { p.Argv = []string{"python3"} },
		"no command":       func(p *Policy) { p.Argv = nil },
		"zero timeout":     func(p *Policy) { p.Timeout = 0 },
		"negative timeout": func(p *Policy) { p.Timeout = -time.Second },
		"relative mount":   func(p *Policy) { p.Mounts = []Mount{{Path: "a/b"}} },
		"unclean mount":    func(p *Policy) { p.Mounts = []Mount{{Path: "/a/../b"}} },
		"root mount":       func(p *Policy) { p.Mounts = []Mount{{Path: "/"}} },
		"relative dir":     func(p *Policy) { p.Dir = "w" },
	} {
		p := ok
		p.Mounts = slices.Clone(ok.Mounts)
		mut(&p)
		if err := p.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeBwrap, "auto": ModeBwrap, "bwrap": ModeBwrap, "none": ModeNone, "NONE": ModeNone} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"docker", "chroot"} {
		if _, err := ParseMode(bad); err == nil {
			t.Errorf("ParseMode(%q) accepted", bad)
		}
	}
}
