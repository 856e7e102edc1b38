package sandbox

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// newBwrap returns a bubblewrap sandbox, or skips the test with the reason
// it cannot run here.
func newBwrap(t *testing.T) *Sandbox {
	t.Helper()
	s, err := New(t.Context(), ModeBwrap)
	if err != nil {
		t.Skipf("%v (.ci/run installs bubblewrap)", err)
	}
	return s
}

// fixture is a host layout an attacker would like to reach: a task's
// private labels, another run's folder, and the folders the sandboxed
// command may use.
type fixture struct {
	root, private, otherRun, data, work string
	log                                 *os.File
}

const secret = "GOLD-LABEL-7f3a"

func newFixture(t *testing.T) fixture {
	t.Helper()
	root := t.TempDir()
	f := fixture{
		root:     root,
		private:  filepath.Join(root, "task", "data", "private"),
		otherRun: filepath.Join(root, "runs", "run_1", "best"),
		data:     filepath.Join(root, "view"),
		work:     filepath.Join(root, "work"),
	}
	for _, d := range []string{f.private, f.otherRun, f.data, f.work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(f.private, "test.csv"), "id,label\nq1,"+secret+"\n")
	write(t, filepath.Join(f.otherRun, "test_results.json"), `{"items":[{"id":"q1","reward":1,"gold":"`+secret+`"}]}`)
	write(t, filepath.Join(f.data, "test.csv"), "id,text\nq1,hello\n")
	log, err := os.Create(filepath.Join(root, "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	f.log = log
	return f
}

func (f fixture) policy(script string, timeout time.Duration) Policy {
	return Policy{
		Argv:    []string{"/bin/sh", "-c", script},
		Dir:     f.work,
		Env:     map[string]string{"PATH": "/usr/bin:/bin", "HOME": f.work},
		Mounts:  []Mount{{Path: f.data}, {Path: f.work, Writable: true}},
		Timeout: timeout,
	}
}

func (f fixture) logText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(f.log.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// noSecretAnywhere checks that the secret reached neither the log nor any
// file the command could write.
func (f fixture) noSecretAnywhere(t *testing.T) {
	t.Helper()
	if strings.Contains(f.logText(t), secret) {
		t.Errorf("the secret reached the log:\n%s", f.logText(t))
	}
	_ = filepath.WalkDir(f.work, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), secret) {
			t.Errorf("the secret reached %s", p)
		}
		return nil
	})
}

// noMarkedProcess checks that no process whose command line holds marker
// is alive.
func noMarkedProcess(t *testing.T, marker string) {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(b), marker) {
			t.Errorf("process %s (%q) outlived its sandbox", e.Name(), strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}

// Every way of naming the private folder, another run or the host finds
// nothing; nothing outside the working folder can be written.
func TestBwrapHidesTheHost(t *testing.T) {
	s := newBwrap(t)
	f := newFixture(t)
	t.Setenv("SIA_TEST_SECRET", secret)
	rel, _ := filepath.Rel(f.work, f.private)
	script := strings.Join([]string{
		"cat " + f.private + "/test.csv",
		"cat " + rel + "/test.csv",
		"cat " + f.work + "/../task/data/private/test.csv",
		"cat /proc/self/root" + f.private + "/test.csv",
		"cat /proc/1/root" + f.private + "/test.csv",
		"cat " + f.otherRun + "/test_results.json",
		"ls -la " + f.root,
		"env",
		"cat /proc/1/environ",
		"ls /root /home",
		"grep -rsl " + secret + " / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr --exclude-dir=dev | head -3",
		"echo escaped > " + f.root + "/escaped",
		"echo escaped > " + f.data + "/escaped",
		"echo escaped > /usr/escaped",
		"umount " + f.data,
		"umount -l /",
		"mount -t tmpfs x " + f.data,
		"grep CapEff /proc/self/status",
		"id -u",
		"echo done",
	}, "; ")
	_, err := s.Run(t.Context(), f.policy(script, 60*time.Second), f.log)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, f.logText(t))
	}
	f.noSecretAnywhere(t)
	for _, p := range []string{filepath.Join(f.root, "escaped"), filepath.Join(f.data, "escaped"), "/usr/escaped"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("the sandbox wrote %s", p)
			os.Remove(p)
		}
	}
	log := f.logText(t)
	if !strings.Contains(log, "CapEff:\t0000000000000000") {
		t.Errorf("the sandboxed command holds capabilities:\n%s", log)
	}
	if !strings.Contains(log, "done") {
		t.Errorf("the script did not run to its end:\n%s", log)
	}
	if os.Geteuid() == 0 && !strings.Contains(log, "\n65534\n") {
		t.Errorf("started by root, the command should run as nobody (65534):\n%s", log)
	}
}

// setsid and double-fork children, and a fork bomb, end with the run.
func TestBwrapLeavesNoProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out a real timeout; .ci/run runs it")
	}
	s := newBwrap(t)
	f := newFixture(t)
	marker := "sia-orphan-" + filepath.Base(f.root)
	script := "setsid sleep 300 " + marker + " & (sleep 301 " + marker + " &) & " +
		"b() { b | b & }; (b) 2>/dev/null & sleep 1; echo started"
	// sleep's extra argument is rejected by some sleeps; use sh -c to carry the marker.
	script = strings.ReplaceAll(script, "sleep 300 "+marker, "sh -c 'sleep 300' "+marker)
	script = strings.ReplaceAll(script, "sleep 301 "+marker, "sh -c 'sleep 301' "+marker)
	p := f.policy(script, 20*time.Second)
	p.Limits.Processes = 64
	_, err := s.Run(t.Context(), p, f.log)
	if err != nil && !errors.Is(err, ErrTimeout) {
		var exit interface{ ExitCode() int }
		if !errors.As(err, &exit) {
			t.Fatalf("run: %v", err)
		}
	}
	noMarkedProcess(t, marker)
}

func TestBwrapTimeoutIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out a real timeout; .ci/run runs it")
	}
	s := newBwrap(t)
	f := newFixture(t)
	start := time.Now()
	_, err := s.Run(t.Context(), f.policy("sleep 30", 700*time.Millisecond), f.log)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a 700ms timeout took %s to end the run", d)
	}
}

func TestBwrapMemoryAndDiskBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: fills memory and disk to their limits; .ci/run runs it")
	}
	s := newBwrap(t)
	t.Run("memory", func(t *testing.T) {
		f := newFixture(t)
		p := f.policy("x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo survived ${#x}", 60*time.Second)
		p.Limits.Memory = 64 << 20
		_, err := s.Run(t.Context(), p, f.log)
		if err == nil && strings.Contains(f.logText(t), "survived 300000000") {
			t.Fatalf("a 300 MB string fit under a 64 MiB limit")
		}
	})
	t.Run("disk", func(t *testing.T) {
		f := newFixture(t)
		p := f.policy("i=0; while true; do head -c 1000000 /dev/zero > f$i || true; i=$((i+1)); done", 60*time.Second)
		p.Limits.Disk = 8 << 20
		p.Limits.FileSize = 2 << 20
		_, err := s.Run(t.Context(), p, f.log)
		if !errors.Is(err, ErrDiskLimit) {
			t.Fatalf("err = %v, want ErrDiskLimit", err)
		}
	})
	t.Run("one large file", func(t *testing.T) {
		f := newFixture(t)
		p := f.policy("head -c 50000000 /dev/zero > big; ls -l big", 60*time.Second)
		p.Limits.FileSize = 1 << 20
		_, _ = s.Run(t.Context(), p, f.log)
		if st, err := os.Stat(filepath.Join(f.work, "big")); err == nil && st.Size() > 1<<20 {
			t.Errorf("wrote a %d-byte file under a 1 MiB file-size limit", st.Size())
		}
	})
}

// Outputs are data: links, pipes, devices and huge files are refused.
func TestReadOutputRefusesWhatIsNotAPlainFile(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "gold.csv")
	write(t, outside, "id,label\nq1,"+secret+"\n")
	write(t, filepath.Join(dir, "ok.csv"), "id,answer\nq1,x\n")
	write(t, filepath.Join(dir, "big.csv"), strings.Repeat("x", 2000))
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(outside, filepath.Join(dir, "abs-link.csv")))
	must(os.Symlink("ok.csv", filepath.Join(dir, "rel-link.csv")))
	must(os.Symlink("/dev/zero", filepath.Join(dir, "zero.csv")))
	must(os.Symlink(filepath.Dir(outside), filepath.Join(dir, "sub")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo.csv"), 0o644))
	must(os.Mkdir(filepath.Join(dir, "dir.csv"), 0o755))

	b, err := ReadOutput(dir, "ok.csv", 1000)
	if err != nil || string(b) != "id,answer\nq1,x\n" {
		t.Fatalf("plain file: %q, %v", b, err)
	}
	for _, tc := range []struct {
		name string
		want error
	}{
		{"abs-link.csv", ErrNotRegular},
		{"rel-link.csv", ErrNotRegular},
		{"zero.csv", ErrNotRegular},
		{"fifo.csv", ErrNotRegular},
		{"dir.csv", ErrNotRegular},
		{"big.csv", ErrTooLarge},
		{"sub/gold.csv", nil}, // a path through a link: any error, never the content
		{"../" + filepath.Base(filepath.Dir(outside)) + "/gold.csv", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var b []byte
			var err error
			go func() { b, err = ReadOutput(dir, tc.name, 1000); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ReadOutput blocked")
			}
			if err == nil {
				t.Fatalf("read %q", b)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(string(b), secret) {
				t.Error("leaked the secret")
			}
		})
	}
}

// The sandbox's network holds nothing but the gateway: a harness reaches
// the gateway through the proxy, and no other service on the host's
// loopback (sia web's dashboard, say), not even by its real address.
func TestBwrapNetworkIsTheGatewayOnly(t *testing.T) {
	s := newBwrap(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	serve := func(body string) (string, func()) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })}
		go srv.Serve(ln)
		return ln.Addr().String(), func() { srv.Close() }
	}
	gw, stopGW := serve("from-the-gateway")
	defer stopGW()
	other, stopOther := serve(secret)
	defer stopOther()

	f := newFixture(t)
	sockDir, err := os.MkdirTemp("", "sia-gw-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "s")
	if err := Bridge(t.Context(), sock, gw); err != nil {
		t.Fatal(err)
	}
	exe, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	get := func(addr string) string {
		host, port, _ := net.SplitHostPort(addr)
		return `(exec 3<>/dev/tcp/` + host + `/` + port + ` && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && cat <&3) 2>&1; echo`
	}
	p := f.policy(get("127.0.0.1:8642")+"; "+get(other)+"; "+get(gw), 30*time.Second)
	p.Argv = []string{bash, "-c", p.Argv[2]}
	p.Gateway = &GatewayProxy{Listen: "127.0.0.1:8642", Socket: sock, Proxy: exe}
	if _, err := s.Run(t.Context(), p, f.log); err != nil {
		t.Fatalf("run: %v\n%s", err, f.logText(t))
	}
	log := f.logText(t)
	if !strings.Contains(log, "from-the-gateway") {
		t.Errorf("the gateway was not reachable through the proxy:\n%s", log)
	}
	if strings.Contains(log, secret) {
		t.Errorf("another loopback service was reachable from the sandbox:\n%s", log)
	}
}
