package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sia-agent/sia/runstore"
)

// sse writes server-sent events.
type sse struct {
	w http.ResponseWriter
	f http.Flusher
}

func startSSE(w http.ResponseWriter) (*sse, bool) {
	f, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return nil, false
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// Tell the browser to reconnect soon after a dropped stream.
	fmt.Fprint(w, "retry: 1000\n\n")
	f.Flush()
	return &sse{w: w, f: f}, true
}

// send writes one event; data must not contain a newline (JSON from
// json.Marshal does not).
func (s *sse) send(id, event string, data []byte) error {
	var b bytes.Buffer
	if id != "" {
		fmt.Fprintf(&b, "id: %s\n", id)
	}
	fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", event, data)
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return err
	}
	s.f.Flush()
	return nil
}

func (s *sse) comment(text string) error {
	if _, err := fmt.Fprintf(s.w, ": %s\n\n", text); err != nil {
		return err
	}
	s.f.Flush()
	return nil
}

// watch calls poll every Poll until ctx is done or poll fails, and sends a
// heartbeat comment when Heartbeat passes without an event.
func (s *Server) watch(ctx context.Context, out *sse, poll func() (sent bool, err error)) {
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	last := time.Now()
	for {
		sent, err := poll()
		if err != nil {
			_ = out.send("", "error", mustJSON(map[string]string{"error": err.Error()}))
			return
		}
		if sent {
			last = time.Now()
		} else if time.Since(last) >= s.cfg.Heartbeat {
			if out.comment("ping") != nil {
				return
			}
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{}`)
	}
	return b
}

// handleRunEvents tails a run's events.jsonl: every event from seq
// ?from= on (or Last-Event-ID + 1 after a reconnect), then each new one as
// it is appended, as "event" messages whose data is the event's JSON line.
// Each poll rereads the file: it is small, and rereading copes with the
// rewrite a resume makes (runstore drops a torn last line).
func (s *Server) handleRunEvents(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("run")
	_, closeFn, err := s.openRun(name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	closeFn()
	next := 0
	if v, err := strconv.Atoi(r.URL.Query().Get("from")); err == nil && v >= 0 {
		next = v
	}
	if v, err := strconv.Atoi(r.Header.Get("Last-Event-ID")); err == nil && v >= 0 {
		next = v + 1
	}
	out, ok := startSSE(w)
	if !ok {
		return
	}
	s.watch(r.Context(), out, func() (bool, error) {
		events, err := s.readEvents(name)
		if err != nil {
			return false, err
		}
		if len(events) < next { // rewritten shorter: the page must redraw from scratch
			next = len(events)
			return true, out.send("", "reset", []byte(`{}`))
		}
		for _, e := range events[next:] {
			b, err := json.Marshal(e)
			if err != nil {
				return false, err
			}
			if err := out.send(strconv.Itoa(e.Seq), "event", b); err != nil {
				return false, err
			}
		}
		sent := len(events) > next
		next = len(events)
		return sent, nil
	})
}

func (s *Server) readEvents(name string) ([]runstore.Event, error) {
	root, err := s.openRuns()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.FS().Open(path.Join(name, runstore.EventsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return runstore.ParseEvents(f)
}

// handleListEvents sends a "change" message whenever a run appears,
// disappears, or its events.jsonl changes.
func (s *Server) handleListEvents(w http.ResponseWriter, r *http.Request) {
	out, ok := startSSE(w)
	if !ok {
		return
	}
	prev := s.fingerprint()
	s.watch(r.Context(), out, func() (bool, error) {
		cur := s.fingerprint()
		if cur == prev {
			return false, nil
		}
		prev = cur
		return true, out.send("", "change", []byte(`{}`))
	})
}

// fingerprint summarises the runs folder: each run's name and the size
// and time of its events.jsonl and run.json.
func (s *Server) fingerprint() string {
	root, err := s.openRuns()
	if err != nil {
		return "missing"
	}
	defer root.Close()
	fsys := root.FS()
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "unreadable"
	}
	var b strings.Builder
	for _, e := range entries {
		if !e.IsDir() || !validRunName(e.Name()) {
			continue
		}
		for _, f := range []string{runstore.ConfigFile, runstore.EventsFile} {
			if info, err := fs.Stat(fsys, e.Name()+"/"+f); err == nil {
				fmt.Fprintf(&b, "%s/%s:%d:%d;", e.Name(), f, info.Size(), info.ModTime().UnixNano())
			}
		}
	}
	return b.String()
}
