package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// tokenCookie carries the token after the first request that gave it in
// the URL, so links and the event stream need not repeat it.
const tokenCookie = "sia_token"

// IsLoopback reports whether addr (host:port) binds only the loopback
// interface: localhost or a loopback IP. An empty host binds every
// interface, so it is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return loopbackHost(host)
}

func loopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewToken returns a random 128-bit token in hex.
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// guard wraps h with the checks every request goes through: read-only
// methods, the Host header on a loopback server (so a page on another
// site cannot reach it by DNS rebinding), the token when there is one,
// and headers that keep pages from being framed or leaking the URL.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			hd.Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard is read-only", http.StatusMethodNotAllowed)
			return
		}
		if s.loopback {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if !loopbackHost(host) {
				http.Error(w, "this dashboard answers on localhost only", http.StatusForbidden)
				return
			}
		}
		if s.token != "" {
			ok, fromURL := s.authorized(r)
			if !ok {
				http.Error(w, "a token is needed: open the URL sia web printed (…/?token=…)", http.StatusUnauthorized)
				return
			}
			if fromURL {
				http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.token, Path: "/", HttpOnly: true,
					SameSite: http.SameSiteStrictMode})
				u := *r.URL
				q := u.Query()
				q.Del("token")
				u.RawQuery = q.Encode()
				http.Redirect(w, r, (&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String(), http.StatusSeeOther)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// authorized checks the token in the Authorization header, the cookie or
// the URL's token parameter (fromURL), in constant time.
func (s *Server) authorized(r *http.Request) (ok, fromURL bool) {
	if v, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && s.tokenIs(v) {
		return true, false
	}
	if c, err := r.Cookie(tokenCookie); err == nil && s.tokenIs(c.Value) {
		return true, false
	}
	if v := r.URL.Query().Get("token"); v != "" && s.tokenIs(v) {
		return true, true
	}
	return false, false
}

func (s *Server) tokenIs(v string) bool {
	return subtle.ConstantTimeCompare([]byte(v), []byte(s.token)) == 1
}
