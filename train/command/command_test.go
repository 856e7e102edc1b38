package command

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sia-agent/sia/adapter"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
)

const header = `{"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]}}`

// writeAdapterSh writes a rank-2 PEFT adapter with printf; dataBytes is the
// size of the tensor data section (32 is valid, less is truncated).
func writeAdapterSh(dataBytes int) string {
	return `set -e
out="$1"; data="$2"; config="$3"
test -s "$config"
n=$(wc -l < "$data" | tr -d ' ')
echo "training on $n lines"
echo "stderr line" >&2
mkdir -p "$out/final"
cat > "$out/final/adapter_config.json" <<'JSON'
{"peft_type":"LORA","r":2,"lora_alpha":4,"target_modules":["q_proj"],"base_model_name_or_path":"org/base","bias":"none","task_type":"CAUSAL_LM"}
JSON
h='` + header + `'
len=${#h}
{ printf "$(printf '\\%03o\\%03o' $((len % 256)) $((len / 256)))"; printf '\0\0\0\0\0\0'; printf '%s' "$h"; head -c ` + strconv.Itoa(dataBytes) + ` /dev/zero; } > "$out/final/adapter_model.safetensors"
echo '{"loss": 0.25, "kl": 0.01}' > "$out/metrics.json"
printf 'no newline at the end'
`
}

func script(t *testing.T, body string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "my scripts") // a space, to test quoting
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "train.sh")
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func rollouts() []trajectory.Trajectory {
	step := func(p, c []int) []trajectory.Step {
		lp := make([]float64, len(c))
		for i := range lp {
			lp[i] = -0.5
		}
		return []trajectory.Step{{Kind: trajectory.KindModel, PromptTokenIDs: p, CompletionTokenIDs: c, Logprobs: lp}}
	}
	return []trajectory.Trajectory{
		{Item: "a", Sample: 0, Reward: 1, Steps: step([]int{1, 2}, []int{3})},
		{Item: "a", Sample: 1, Reward: 0, Steps: step([]int{1, 2}, []int{4, 5})},
		{Item: "b", Sample: 0, Reward: 0, Steps: step([]int{6}, []int{7})},
		{Item: "b", Sample: 1, Reward: 1, Steps: step([]int{6}, []int{8})},
	}
}

func newTrainer(t *testing.T, scriptPath string, mutate func(*Config)) (*Trainer, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var lines []string
	cfg := Config{
		Command:   "sh " + shellQuote(scriptPath) + " {out} {data} {config}",
		BaseModel: "org/base", Rank: 2, Alpha: 4, TargetModules: []string{"q_proj"}, MaxRank: 8,
		OnLog: func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr, &lines
}

func TestValidAdapterAccepted(t *testing.T) {
	tr, lines := newTrainer(t, script(t, writeAdapterSh(32)), nil)
	gen := filepath.Join(t.TempDir(), "gen 2")
	req := train.Request{Run: "r1", Gen: 2, Algorithm: rl.GRPO, Rollouts: rollouts(), Version: 5, Seed: 9,
		OutDir: filepath.Join(gen, "adapter"), MetricsPath: filepath.Join(gen, "train.jsonl")}
	res, err := tr.Train(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != 5 || res.AdapterDir != req.OutDir || res.Metrics["loss"] != 0.25 || res.Metrics["examples"] != 4 || res.Metrics["lora_modules"] != 1 {
		t.Errorf("result %+v", res)
	}
	if _, err := adapter.Validate(req.OutDir, adapter.Expect{Rank: 2}); err != nil {
		t.Errorf("accepted adapter: %v", err)
	}
	if _, err := os.Stat(req.OutDir + ".staging"); !os.IsNotExist(err) {
		t.Errorf("staging folder left behind: %v", err)
	}
	want := []string{"training on 4 lines", "stderr line", "no newline at the end"}
	if strings.Join(*lines, "|") != strings.Join(want, "|") {
		t.Errorf("log lines %q", *lines)
	}
	log, _ := os.ReadFile(filepath.Join(gen, "trainer", "train.log"))
	if !strings.Contains(string(log), "training on 4 lines\n") {
		t.Errorf("train.log %q", log)
	}
	// config.json
	var job JobConfig
	b, _ := os.ReadFile(filepath.Join(gen, "trainer", "config.json"))
	if err := json.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	if job.Algorithm != rl.GRPO || job.Version != 5 || job.Seed != 9 || job.BaseModel != "org/base" || job.LoRA.R != 2 ||
		job.LoRA.Alpha != 4 || job.AdvantageEstimator != "precomputed" || job.Counts.Examples != 4 || job.Hyper.LearningRate != 1e-5 ||
		job.Out != req.OutDir+".staging" || !filepath.IsAbs(job.Data) {
		t.Errorf("job %+v", job)
	}
	// data.jsonl: every field of the first line.
	f, _ := os.Open(job.Data)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	var first map[string]any
	json.Unmarshal(sc.Bytes(), &first)
	for k, v := range map[string]any{"type": "sample", "item": "a", "sample": 0.0, "step": 0.0, "reward": 1.0, "adapter_version": 0.0} {
		if first[k] != v {
			t.Errorf("data line %s = %v, want %v", k, first[k], v)
		}
	}
	if adv, _ := first["advantage"].(float64); adv < 0.99 || adv > 1 {
		t.Errorf("advantage %v", first["advantage"])
	}
	for _, k := range []string{"prompt_token_ids", "completion_token_ids", "logprobs", "ref_logprobs"} {
		if _, ok := first[k].([]any); !ok {
			t.Errorf("data line lacks %s: %v", k, first)
		}
	}
	if m, _ := os.ReadFile(req.MetricsPath); !strings.Contains(string(m), `"loss":0.25`) {
		t.Errorf("metrics file %q", m)
	}
	// The output folder now exists: a second run into it is refused.
	if _, err := tr.Train(context.Background(), req); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("rerun into existing folder: %v", err)
	}
}

func TestBrokenAdapterRejected(t *testing.T) {
	tests := []struct {
		name, body, msg string
		mutate          func(*Config)
	}{
		{"truncated safetensors", writeAdapterSh(20), "outside", nil},
		{"no adapter", "echo nothing\n", "wrote no adapter_config.json", nil},
		{"wrong rank", writeAdapterSh(32), "r is 2, want 4", func(c *Config) { c.Rank = 4 }},
		{"two adapters", writeAdapterSh(32) + "\ncp -r \"$1/final\" \"$1/other\"\n", "2 adapters", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, _ := newTrainer(t, script(t, tc.body), tc.mutate)
			out := filepath.Join(t.TempDir(), "adapter")
			_, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: rollouts(), Version: 1, OutDir: out})
			if !errors.Is(err, adapter.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrInvalid with %q", err, tc.msg)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("rejected adapter reached %s", out)
			}
		})
	}
}

func TestCommandFailureShowsLogTail(t *testing.T) {
	tr, _ := newTrainer(t, script(t, "echo 'CUDA out of memory' >&2\nexit 3\n"), nil)
	_, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: rollouts(), Version: 1, OutDir: filepath.Join(t.TempDir(), "a")})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "CUDA out of memory") {
		t.Fatalf("err = %v", err)
	}
}

// alive reports whether pid is a live (non-zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

func TestTimeoutKillsProcessGroup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	body := "sleep 30 &\necho $! > \"$1/../child.pid\"\necho started\nwait\n"
	tr, _ := newTrainer(t, script(t, body), func(c *Config) {
		c.Timeout = 300 * time.Millisecond
		c.KillGrace = 200 * time.Millisecond
	})
	dir := t.TempDir()
	start := time.Now()
	_, err := tr.Train(context.Background(), train.Request{Algorithm: rl.GRPO, Rollouts: rollouts(), Version: 1, OutDir: filepath.Join(dir, "adapter")})
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms") || !strings.Contains(err.Error(), "started") {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
	b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(2 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) {
		t.Errorf("background child %d survived the timeout", pid)
	}
}

func TestDPOPairsAndPlaceholders(t *testing.T) {
	// The script checks its arguments instead of training: it copies them
	// into the log and writes a valid adapter.
	body := "echo \"alg=$4 gen=$5 ver=$6 base=$7 env=$SIA_ALGORITHM\"\n" + writeAdapterSh(32)
	tr, lines := newTrainer(t, script(t, body), func(c *Config) {
		c.Command = strings.Replace(c.Command, "{config}", "{config} {algorithm} {gen} {version} {base_model}", 1)
	})
	out := filepath.Join(t.TempDir(), "adapter")
	if _, err := tr.Train(context.Background(), train.Request{Gen: 4, Algorithm: rl.DPO, Rollouts: rollouts(), Version: 2, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	if (*lines)[0] != "alg=dpo gen=4 ver=2 base=org/base env=dpo" {
		t.Errorf("placeholders: %q", (*lines)[0])
	}
	f, _ := os.Open(filepath.Join(filepath.Dir(out), "trainer", "data.jsonl"))
	defer f.Close()
	sc := bufio.NewScanner(f)
	var pairs []map[string]any
	for sc.Scan() {
		var m map[string]any
		json.Unmarshal(sc.Bytes(), &m)
		pairs = append(pairs, m)
	}
	if len(pairs) != 2 {
		t.Fatalf("%d lines, want 2 pairs", len(pairs))
	}
	p := pairs[0]
	if p["type"] != "pair" || p["item"] != "a" || p["chosen_reward"] != 1.0 || p["rejected_reward"] != 0.0 {
		t.Errorf("pair %v", p)
	}
	if c, _ := p["chosen_token_ids"].([]any); len(c) != 1 || c[0] != 3.0 {
		t.Errorf("chosen %v", p["chosen_token_ids"])
	}
	if r, _ := p["rejected_token_ids"].([]any); len(r) != 2 || r[0] != 4.0 {
		t.Errorf("rejected %v", p["rejected_token_ids"])
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []Config{
		{},
		{Command: "train {dta}"},
		{Command: "x", Rank: 64, MaxRank: 32},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if got := expand("run {out} {gen}", map[string]string{"out": "/a b/it's", "gen": "3"}); got != `run '/a b/it'\''s' '3'` {
		t.Errorf("expand %q", got)
	}
}
