package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/web"
)

// defaultWebAddr is where the dashboard listens unless told otherwise:
// loopback only.
const defaultWebAddr = "127.0.0.1:7878"

// webOptions are `sia web`'s flags.
type webOptions struct {
	RunsDir string
	Addr    string
	Token   string
}

func (o *webOptions) validate() error {
	if err := checkAddr("--addr", o.Addr); err != nil {
		return err
	}
	if strings.ContainsAny(o.Token, " \t\r\n") {
		return errors.New("--token: no spaces or line breaks")
	}
	return nil
}

// checkAddr checks a HOST:PORT flag.
func checkAddr(flag, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s %q: want HOST:PORT, e.g. %s", flag, addr, defaultWebAddr)
	}
	return nil
}

func bindWebFlags(f *pflag.FlagSet, o *webOptions) {
	f.StringVar(&o.RunsDir, "runs-dir", "runs", "folder holding run folders (env SIA_RUNS_DIR)")
	f.StringVar(&o.Addr, "addr", defaultWebAddr, "HOST:PORT to listen on; an address beyond loopback needs a token")
	f.StringVar(&o.Token, "token", "", "token every request must carry (generated and printed when --addr is not loopback)")
}

func newWebCmd(a *app) *cobra.Command {
	o := &webOptions{}
	cmd := &cobra.Command{
		Use:   "web",
		Short: "Serve a live dashboard of the runs in --runs-dir (loopback only by default)",
		Long: `Serve a dashboard of the runs in --runs-dir: the run list, and for each run the score per
generation with the incumbent line, every decision with its reasons, harness diffs between
any two generations, the rollouts (item → samples → model calls, tool steps, reward, error),
training curves of each weight update, and tokens, time and cost. Pages of a running run
update live. Everything is embedded in the binary and works offline; it only reads.

It listens on 127.0.0.1 unless --addr says otherwise. On any other address every request
must carry a token: give one with --token, or one is generated and printed in the URL.
Ctrl-C stops it.`,
		Example: `  sia web
  sia web --runs-dir runs-cipher --addr 127.0.0.1:9000
  sia web --addr 0.0.0.0:7878            # prints http://0.0.0.0:7878/?token=…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("runs-dir") {
				o.RunsDir = a.env.RunsDir()
			}
			if err := o.validate(); err != nil {
				return err
			}
			ctx := cmd.Context()
			wait, err := a.startWeb(ctx, o, "/")
			if err != nil {
				return err
			}
			<-ctx.Done()
			return wait()
		},
	}
	bindWebFlags(cmd.Flags(), o)
	return cmd
}

// startWeb listens on o.Addr and serves the dashboard in a goroutine
// until ctx is done; the returned wait blocks until it has stopped. The
// listen error (a taken port, a bad address) comes back before anything
// runs.
func (a *app) startWeb(ctx context.Context, o *webOptions, path string) (wait func() error, err error) {
	token := o.Token
	if token == "" && !web.IsLoopback(o.Addr) {
		token = web.NewToken()
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	// The address as given, with the port the listener got (for :0).
	host, _, _ := net.SplitHostPort(o.Addr)
	if host == "" {
		host = "0.0.0.0"
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	srv, err := web.New(web.Config{RunsDir: o.RunsDir, Addr: net.JoinHostPort(host, port), Token: token})
	if err != nil {
		ln.Close()
		return nil, err
	}
	fmt.Fprintf(a.streams.Err, "sia: dashboard of %s at %s\n", o.RunsDir, srv.URL(path))
	done := make(chan error, 1)
	go func() { done <- web.Serve(ctx, ln, srv) }()
	return func() error { return <-done }, nil
}

// webBeside serves the dashboard for `sia run --web`, on the run's own
// context; stop ends it and waits for it.
func (a *app) webBeside(ctx context.Context, o *runOptions) (stop func(), err error) {
	if err := checkAddr("--web-addr", o.WebAddr); err != nil {
		return nil, err
	}
	wo := &webOptions{RunsDir: o.RunsDir, Addr: o.WebAddr}
	ctx, cancel := context.WithCancel(ctx)
	wait, err := a.startWeb(ctx, wo, "/run/"+runstore.RunDirName(o.RunID))
	if err != nil {
		cancel()
		return nil, err
	}
	return func() {
		cancel()
		_ = wait() // a shutdown error after the run has nothing left to lose
	}, nil
}
