package gateway

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// TagHeader carries the call's tag.
const TagHeader = "X-SIA-Item"

// Tag says which rollout sample a call belongs to.
type Tag struct {
	Run    string // optional
	Gen    int    // optional; -1 when absent
	Item   string
	Sample int
}

// FormatTag spells a tag for the X-SIA-Item header or the user field:
// "item=<id>;sample=<k>", values query-escaped so any item id round-trips.
func FormatTag(item string, sample int) string {
	return "item=" + url.QueryEscape(item) + ";sample=" + strconv.Itoa(sample)
}

// ParseTag reads "item=<id>;sample=<k>[;gen=<g>][;run=<r>]" (keys in any
// order, values query-escaped). A value with no "=" at all is taken as a
// bare item id, sample 0, as SIA harnesses that put the item id in the
// user field do. ok is false for "" and for a malformed tag.
func ParseTag(s string) (Tag, bool, error) {
	t := Tag{Gen: -1}
	s = strings.TrimSpace(s)
	if s == "" {
		return t, false, nil
	}
	if !strings.Contains(s, "=") {
		t.Item = s
		return t, true, nil
	}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, found := strings.Cut(part, "=")
		if !found {
			return t, false, fmt.Errorf("tag %q: %q is not key=value", s, part)
		}
		v, err := url.QueryUnescape(v)
		if err != nil {
			return t, false, fmt.Errorf("tag %q: %s: %w", s, k, err)
		}
		switch strings.TrimSpace(k) {
		case "item":
			t.Item = v
		case "sample":
			if t.Sample, err = strconv.Atoi(v); err != nil || t.Sample < 0 {
				return t, false, fmt.Errorf("tag %q: sample %q is not a non-negative integer", s, v)
			}
		case "gen":
			if t.Gen, err = strconv.Atoi(v); err != nil || t.Gen < 0 {
				return t, false, fmt.Errorf("tag %q: gen %q is not a non-negative integer", s, v)
			}
		case "run":
			t.Run = v
		default:
			return t, false, fmt.Errorf("tag %q: unknown key %q (want item, sample, gen, run)", s, k)
		}
	}
	if t.Item == "" {
		return t, false, fmt.Errorf("tag %q: no item", s)
	}
	return t, true, nil
}
