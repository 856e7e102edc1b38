package data

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serve answers every source URL by its last path elements.
func serve(t *testing.T, files map[string]string, wantToken string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantToken != "" && r.Header.Get("Authorization") != "Bearer "+wantToken {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		for suffix, body := range files {
			if strings.HasSuffix(r.URL.Path, suffix) {
				w.Write([]byte(body))
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func rewriteTo(srv *httptest.Server) func(string) string {
	return func(u string) string {
		i := strings.Index(u[len("https://"):], "/")
		return srv.URL + u[len("https://")+i:]
	}
}

func TestPullChecksumMismatch(t *testing.T) {
	srv := serve(t, map[string]string{
		"public/train.csv": "not the pinned bytes", "public/test.csv": "x", "public/sample_submission.csv": "x", "private/test.csv": "x",
	}, "")
	root := t.TempDir()
	_, err := Pull(t.Context(), "spaceship-titanic", root, PullOptions{Client: srv.Client(), Rewrite: rewriteTo(srv)})
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("err = %v, want a checksum error that says nothing was written", err)
	}
	if _, err := os.Stat(filepath.Join(root, "spaceship-titanic", "public", "train.csv")); err == nil {
		t.Fatal("a mismatched file was kept")
	}
}

func TestPullUnpinnedFilesAreReported(t *testing.T) {
	classes, err := os.ReadFile("../../shared/data/lawbench/classes.json")
	if err != nil {
		t.Skipf("shared data absent (%v): the pinned classes.json is needed", err)
	}
	srv := serve(t, map[string]string{
		"public/train.csv": "id,text,label\n1,a,盗窃\n", "public/test.csv": "id,text\n2,b\n",
		"public/classes.json": string(classes), "private/test.csv": "id,label\n2,盗窃\n",
	}, "")
	root := t.TempDir()
	rep, err := Pull(t.Context(), "lawbench", root, PullOptions{Client: srv.Client(), Rewrite: rewriteTo(srv)})
	if err != nil {
		t.Fatal(err)
	}
	pinned := 0
	for _, f := range rep.Files {
		if f.Pinned {
			pinned++
		}
	}
	if len(rep.Files) != 4 || pinned != 1 || len(rep.Notes) != 3 {
		t.Fatalf("report %+v", rep)
	}
}

func TestPullGPQA(t *testing.T) {
	root := t.TempDir()
	// No token: a clear error before any request.
	_, err := Pull(t.Context(), "gpqa", root, PullOptions{Rewrite: func(string) string { return "http://127.0.0.1:1/never" }})
	if !errors.Is(err, ErrNeedsAuth) || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Fatalf("err = %v, want ErrNeedsAuth naming HF_TOKEN", err)
	}
	// Questions we wrote, in GPQA's CSV columns.
	csvText := "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,High-level domain,Subdomain\n" +
		"What is 2+2?,4,3,5,22,Math,Arithmetic\n" +
		"Which gas do plants take in for photosynthesis?,Carbon dioxide,Oxygen,Nitrogen,Helium,Biology,Botany\n"
	srv := serve(t, map[string]string{"gpqa_diamond.csv": csvText}, "tok")
	if _, err := Pull(t.Context(), "gpqa", root, PullOptions{Client: srv.Client(), Rewrite: rewriteTo(srv), HFToken: "wrong"}); !errors.Is(err, ErrNeedsAuth) {
		t.Fatalf("wrong token: err = %v", err)
	}
	rep, err := Pull(t.Context(), "gpqa", root, PullOptions{Client: srv.Client(), Rewrite: rewriteTo(srv), HFToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 2 {
		t.Fatalf("files %+v", rep.Files)
	}
	var pub, priv []map[string]any
	b, _ := os.ReadFile(filepath.Join(root, "gpqa/public/diamond_questions.json"))
	json.Unmarshal(b, &pub)
	b, _ = os.ReadFile(filepath.Join(root, "gpqa/private/diamond_questions.json"))
	json.Unmarshal(b, &priv)
	if len(pub) != 2 || len(priv) != 2 {
		t.Fatalf("public %d private %d", len(pub), len(priv))
	}
	if _, leak := pub[0]["correct_answer_letter"]; leak {
		t.Fatal("public file carries the answer")
	}
	letter := priv[0]["correct_answer_letter"].(string)
	if opts := priv[0]["options"].(map[string]any); opts[letter] != "4" {
		t.Fatalf("correct letter %s points at %v", letter, opts[letter])
	}
	if _, err := os.Stat(filepath.Join(root, "gpqa/.download")); err == nil {
		t.Fatal("raw download left behind")
	}
}

func TestSourcesUnknownTask(t *testing.T) {
	if _, err := Sources("demo"); err == nil || !strings.Contains(err.Error(), "makes its data from a seed") {
		t.Fatalf("err = %v", err)
	}
}
