package testservers

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Request is what a CountingProxy saw of one request to a restic
// repository: the method, the kind of repository file it is about, and
// whether it lists them.
type Request struct {
	Method string
	// Type is the repository file type ("config", "keys", "locks",
	// "snapshots", "index", "data"), or "" for anything else (such as
	// S3's bucket location query).
	Type string
	// List is true for a listing of Type's files.
	List bool
}

func (r Request) String() string {
	if r.List {
		return "LIST " + r.Type
	}
	return r.Method + " " + r.Type
}

// CountingProxy is a test double for observation and fault injection: a
// reverse proxy in front of a real Server that records every request
// restic makes, so a test can count what an operation costs on a remote
// repository, and can hold chosen requests back (Stall) to interrupt a
// backup at a known point. It changes no request or response.
type CountingProxy struct {
	// Addr is the proxy's host:port on 127.0.0.1.
	Addr string

	s3 bool

	mu       sync.Mutex
	requests []Request
	stall    func(Request) bool
	stalled  chan Request
	release  chan struct{}
}

// NewCountingProxy starts a proxy in front of s and stops it when the test
// ends. Give restic s.RepoVia(p.Addr).
func NewCountingProxy(tb testing.TB, s *Server) *CountingProxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("counting proxy: %v", err)
	}
	p := &CountingProxy{Addr: l.Addr().String(), s3: s.Name == "s3"}
	target := &url.URL{Scheme: "http", Host: s.Addr}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		// S3 signs the Host header: keep the one restic signed.
		r.Out.Host = r.In.Host
	}, ErrorLog: log.New(io.Discard, "", 0)} // a stopped restic's requests fail: expected
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := p.classify(r)
		if release := p.record(req); release != nil {
			// Read the whole request first: only then does the server
			// notice that the client went away, and a request whose
			// client was stopped must never reach the server.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "counting proxy: "+err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			select {
			case <-r.Context().Done():
				// The client gave up (restic was stopped): the server
				// never sees the request.
				http.Error(w, "stalled by the test's counting proxy", http.StatusServiceUnavailable)
				return
			case <-release:
			}
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	tb.Cleanup(func() {
		p.Release()
		srv.Close()
	})
	return p
}

// classify names the repository file a request is about: for the REST
// protocol the path is /<type>/<name> (a listing is GET /<type>/), for
// S3 /<bucket>/<type>/<name> (a listing is GET /<bucket>/?prefix=<type>/).
func (p *CountingProxy) classify(r *http.Request) Request {
	req := Request{Method: r.Method}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if p.s3 {
		parts = parts[1:] // the bucket
		if prefix := r.URL.Query().Get("prefix"); r.Method == http.MethodGet && len(parts) == 0 && prefix != "" {
			req.Type, req.List = strings.TrimSuffix(prefix, "/"), true
			return req
		}
	}
	if len(parts) == 0 || parts[0] == "" {
		return req
	}
	req.Type = parts[0]
	req.List = r.Method == http.MethodGet && len(parts) == 1 && strings.HasSuffix(r.URL.Path, "/") && req.Type != "config"
	return req
}

// record adds req and, if it is to be held back, returns the channel
// whose closing releases it.
func (p *CountingProxy) record(req Request) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, req)
	if p.stall != nil && p.stall(req) {
		select {
		case p.stalled <- req:
		default:
		}
		return p.release
	}
	return nil
}

// Requests returns the requests seen since the last Reset.
func (p *CountingProxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Count returns how many requests seen since the last Reset match.
func (p *CountingProxy) Count(match func(Request) bool) int {
	n := 0
	for _, r := range p.Requests() {
		if match(r) {
			n++
		}
	}
	return n
}

// Reset forgets the requests seen so far.
func (p *CountingProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = nil
}

// Stall holds back every request that match accepts, from now on, until
// Release or until its client gives up; the returned channel receives the
// first such request (and may miss later ones).
func (p *CountingProxy) Stall(match func(Request) bool) <-chan Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.release != nil {
		close(p.release)
	}
	p.stall, p.stalled, p.release = match, make(chan Request, 1), make(chan struct{})
	return p.stalled
}

// Release lets stalled requests through and stalls no more.
func (p *CountingProxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.release != nil {
		close(p.release)
	}
	p.stall, p.release = nil, nil
}
