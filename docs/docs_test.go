package docs

import (
	"io/fs"
	"testing"
)

func TestAgentsReadTheReferenceNotTheTaskDesigns(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"harness.md", true},
		{"rl.md", true},
		{"demo.md", false},
		{"cipher.md", false},
	}
	for _, tt := range tests {
		_, err := fs.Stat(FS, tt.name)
		if got := err == nil; got != tt.want {
			t.Errorf("%s in the agents' docs: %v, want %v", tt.name, got, tt.want)
		}
	}
}
