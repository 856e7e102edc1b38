package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/trajectory"
)

//go:embed assets templates
var embedded embed.FS

// Config configures a dashboard.
type Config struct {
	// RunsDir is the folder whose run folders are shown. It may not exist
	// yet (the list is then empty).
	RunsDir string
	// Addr is the address the dashboard is served on (host:port). On a
	// loopback address requests must name a loopback host; any other
	// address needs a Token.
	Addr string
	// Token, when set, is required on every request (Authorization:
	// Bearer, the sia_token cookie, or ?token= once, which sets the cookie).
	Token string
	// Poll is how often a live page's event stream looks for new events
	// (default 500ms).
	Poll time.Duration
	// Heartbeat is how often an idle event stream sends a comment to keep
	// proxies from closing it (default 15s).
	Heartbeat time.Duration
	// Now is the clock for ages ("3m ago"); default time.Now.
	Now func() time.Time
	// Log receives request errors; nil discards them.
	Log *slog.Logger
}

func (c *Config) applyDefaults() {
	if c.Poll <= 0 {
		c.Poll = 500 * time.Millisecond
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// ErrNeedsToken is returned by New for a non-loopback address without a
// token.
var ErrNeedsToken = errors.New("serving on a non-loopback address needs a token")

func (c Config) validate() error {
	if c.RunsDir == "" {
		return errors.New("web: no runs folder")
	}
	if c.Addr == "" {
		return errors.New("web: no address")
	}
	if !IsLoopback(c.Addr) && c.Token == "" {
		return fmt.Errorf("web: %s: %w", c.Addr, ErrNeedsToken)
	}
	return nil
}

// Server is the dashboard's http.Handler.
type Server struct {
	cfg      Config
	loopback bool
	token    string
	pages    map[string]*template.Template
	handler  http.Handler
	rollouts rolloutCache
}

var _ http.Handler = (*Server)(nil)

// New builds the dashboard for cfg.
func New(cfg Config) (*Server, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, loopback: IsLoopback(cfg.Addr), token: cfg.Token}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s.pages = pages
	assets, err := fs.Sub(embedded, "assets")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /{$}", s.handleList)
	mux.HandleFunc("GET /events", s.handleListEvents)
	mux.HandleFunc("GET /run/{run}", s.handleRun)
	mux.HandleFunc("GET /run/{run}/events", s.handleRunEvents)
	mux.HandleFunc("GET /run/{run}/diff", s.handleDiff)
	mux.HandleFunc("GET /run/{run}/gen/{gen}", s.handleGen)
	mux.HandleFunc("GET /run/{run}/gen/{gen}/rollouts", s.handleRollouts)
	mux.HandleFunc("GET /run/{run}/gen/{gen}/item", s.handleItem)
	s.handler = s.guard(mux)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// URL is the address people open: http://addr/, with the token when there
// is one.
func (s *Server) URL(path string) string {
	u := "http://" + s.cfg.Addr + path
	if s.token != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		u += sep + "token=" + s.token
	}
	return u
}

// Serve serves h on ln until ctx is done, then shuts down: open event
// streams end with ctx (their requests' context derives from it).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shut)
	<-errc // http.ErrServerClosed
	return err
}

// openRuns opens the runs folder confined to itself: a run folder's
// symbolic link cannot lead a read outside it.
func (s *Server) openRuns() (*os.Root, error) { return os.OpenRoot(s.cfg.RunsDir) }

// errNoRun is a request for a run that is not there.
var errNoRun = errors.New("no such run")

// validRunName accepts a single path element that is not hidden.
func validRunName(name string) bool {
	return name != "" && fs.ValidPath(name) && !strings.ContainsAny(name, `/\`) && !strings.HasPrefix(name, ".")
}

// openRun reads one run of the runs folder.
func (s *Server) openRun(name string) (*report.Run, func(), error) {
	if !validRunName(name) {
		return nil, nil, errNoRun
	}
	root, err := s.openRuns()
	if err != nil {
		return nil, nil, errNoRun
	}
	sub, err := fs.Sub(root.FS(), name)
	if err != nil {
		root.Close()
		return nil, nil, errNoRun
	}
	r, err := report.OpenFS(sub, name)
	if err != nil {
		root.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, errNoRun
		}
		return nil, nil, err
	}
	return r, func() { root.Close() }, nil
}

// rolloutCache keeps the last few parsed rollouts files: a viewer clicks
// through the items of one generation, and a file can hold megabytes of
// token ids.
type rolloutCache struct {
	mu      sync.Mutex
	entries []rolloutEntry
}

type rolloutEntry struct {
	key   string
	trajs []trajectory.Trajectory
}

const rolloutCacheSize = 4

func (c *rolloutCache) get(r *report.Run, gen int) ([]trajectory.Trajectory, error) {
	info, err := trajectory.Stat(r.FS(), runstore.GenFile(gen, runstore.RolloutsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s/%d/%d/%d", r.Name, gen, info.Size(), info.ModTime().UnixNano())
	c.mu.Lock()
	for _, e := range c.entries {
		if e.key == key {
			c.mu.Unlock()
			return e.trajs, nil
		}
	}
	c.mu.Unlock()
	trajs, err := r.Rollouts(gen)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries = append([]rolloutEntry{{key, trajs}}, c.entries...)
	if len(c.entries) > rolloutCacheSize {
		c.entries = c.entries[:rolloutCacheSize]
	}
	c.mu.Unlock()
	return trajs, nil
}
