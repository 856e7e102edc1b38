package llm

import (
	"fmt"
	"net/url"
)

// CheckBaseURL validates a provider's base URL: http or https, with a host.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("base url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("base url %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("base url %q: no host", raw)
	}
	return nil
}
