package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the dashboard is mounted.
const Prefix = "/ui/"

const (
	tokenCookie = "raftcron_token"
	sidCookie   = "raftcron_sid"
	// maxClients bounds the cached API clients (one per token in use).
	maxClients = 64
	// callTimeout bounds the API calls of one page.
	callTimeout = 5 * time.Second
	// refreshSeconds: how often pages reload themselves.
	refreshSeconds = 5
)

// Config says how the dashboard reaches the API.
type Config struct {
	// Addr is the gRPC address of the API the dashboard reads through
	// (its own server's).
	Addr string
	// TLS is the certificate the dashboard dials with (its server's own)
	// and the cluster CA. With TLS the server checks ACL tokens, so
	// viewers log in with one, which every call then carries. Without it
	// (--insecure servers) the dashboard dials plaintext and is open.
	TLS *auth.Credentials
	// Plaintext: the dashboard is served in plain HTTP although ACLs are on
	// (the server's --http-plaintext, TLS terminated in front of it). A
	// token typed into the login form would then cross the network in
	// clear, so logins are taken only from loopback (a proxy on the host).
	Plaintext bool
	Logger    *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Handler serves the dashboard under Prefix.
type Handler struct {
	cfg   Config
	log   *slog.Logger
	mux   *http.ServeMux
	pages map[string]*template.Template
	// csrfKey signs the per-session CSRF tokens.
	csrfKey []byte

	mu      sync.Mutex
	clients map[string]*cachedClient // by SHA-256 of the token
	closed  bool

	// streams is closed by StopStreams: open live-update streams end.
	streams     chan struct{}
	stopStreams sync.Once
}

type cachedClient struct {
	c    *client.Client
	used time.Time
}

// New builds the dashboard.
func New(cfg Config) (*Handler, error) {
	if cfg.Addr == "" {
		return nil, errors.New("ui: the API address is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, log: cfg.Logger.With("component", "ui"), clients: map[string]*cachedClient{}, streams: make(chan struct{})}
	h.csrfKey = make([]byte, 32)
	if _, err := rand.Read(h.csrfKey); err != nil {
		return nil, fmt.Errorf("ui: csrf key: %w", err)
	}
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /ui/login", h.loginPage)
	m.HandleFunc("POST /ui/login", h.login)
	m.HandleFunc("POST /ui/logout", h.logout)
	m.HandleFunc("GET /ui/{$}", h.page(h.overview))
	m.HandleFunc("GET /ui/cronjobs", h.page(h.cronJobs))
	m.HandleFunc("GET /ui/cronjobs/{ns}/{name}", h.page(h.cronJob))
	m.HandleFunc("POST /ui/cronjobs/{ns}/{name}/{action}", h.action)
	m.HandleFunc("GET /ui/jobs/{ns}/{name}", h.page(h.job))
	m.HandleFunc("GET /ui/jobs/{ns}/{name}/log", h.jobLog)
	m.HandleFunc("GET /ui/workers", h.page(h.workers))
	m.HandleFunc("GET /ui/live", h.live)
	h.mux = m
	return h, nil
}

// ServeHTTP serves a dashboard request with headers that keep the pages out
// of frames and caches and allow only the dashboard's own script.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
		hd.Set("Cache-Control", "no-store")
	}
	h.mux.ServeHTTP(w, r)
}

// StopStreams ends the open live-update streams (register it with
// http.Server.RegisterOnShutdown, so a shutdown need not wait for them).
func (h *Handler) StopStreams() { h.stopStreams.Do(func() { close(h.streams) }) }

// Close ends the live-update streams and closes the cached API clients.
func (h *Handler) Close() error {
	h.StopStreams()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	var errs []error
	for k, c := range h.clients {
		errs = append(errs, c.c.Close())
		delete(h.clients, k)
	}
	return errors.Join(errs...)
}

// acls: viewers must log in with an ACL token.
func (h *Handler) acls() bool { return h.cfg.TLS != nil }

// clientFor returns the cached client of a token, making it on first use
// and closing the least recently used one beyond maxClients.
func (h *Handler) clientFor(token string) (*client.Client, error) {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errors.New("the dashboard is shutting down")
	}
	now := time.Now()
	if c, ok := h.clients[key]; ok {
		c.used = now
		return c.c, nil
	}
	c, err := client.New(client.Config{Servers: []string{h.cfg.Addr}, TLS: h.cfg.TLS, Insecure: h.cfg.TLS == nil, Token: token, DialTimeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	if len(h.clients) >= maxClients {
		var oldest string
		for k, v := range h.clients {
			if oldest == "" || v.used.Before(h.clients[oldest].used) {
				oldest = k
			}
		}
		_ = h.clients[oldest].c.Close()
		delete(h.clients, oldest)
	}
	h.clients[key] = &cachedClient{c: c, used: now}
	return c, nil
}

// session is one viewer's request: their API client and what their token
// may do.
type session struct {
	c    *client.Client
	who  *pb.WhoAmIResponse
	csrf string
	ctx  context.Context
}

// can reports whether the viewer's token allows verb in namespace.
func (s *session) can(verb auth.Verb, namespace string) bool {
	if s.who.GetAclsDisabled() {
		return true
	}
	tok := s.who.GetToken()
	if tok == nil {
		return false
	}
	return auth.Authorize(tok, time.Now(), namespace, verb) == nil
}

// viewer names the viewer in the page header.
func (s *session) viewer() string {
	switch {
	case s.who.GetAclsDisabled():
		return "ACLs off (insecure cluster)"
	case s.who.GetToken().GetManagement():
		return "token " + s.who.GetToken().GetName() + " (management)"
	case s.who.GetToken() != nil:
		t := s.who.GetToken()
		return fmt.Sprintf("token %s (%s in %s)", t.GetName(), strings.Join(t.GetVerbs(), ", "), strings.Join(t.GetNamespaces(), ", "))
	}
	return ""
}

// sid returns the viewer's session id, setting a new one when there is none.
func (h *Handler) sid(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sidCookie); err == nil && len(c.Value) >= 16 {
		return c.Value
	}
	return h.newSID(w)
}

func (h *Handler) newSID(w http.ResponseWriter) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, h.cookie(sidCookie, v))
	return v
}

// cookie is a cookie only this dashboard's pages send back: Secure,
// HttpOnly and SameSite=Strict.
func (h *Handler) cookie(name, value string) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: Prefix, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}

// csrfFor is the CSRF token of a session id: forms carry it in a hidden
// field and every POST must return it.
func (h *Handler) csrfFor(sid string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte("csrf:" + sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF compares a POST's csrf field with its session's.
func (h *Handler) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(sidCookie)
	if err != nil || c.Value == "" {
		return false
	}
	want := h.csrfFor(c.Value)
	return hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(want))
}

// errLogin: the viewer must log in (again).
var errLogin = errors.New("log in with an ACL token")

// session opens the viewer's session: their token's client and WhoAmI.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) (*session, error) {
	token := ""
	if h.acls() {
		c, err := r.Cookie(tokenCookie)
		if err != nil || c.Value == "" {
			return nil, errLogin
		}
		token = c.Value
	}
	cl, err := h.clientFor(token)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	context.AfterFunc(r.Context(), cancel)
	_ = cancel
	who, err := cl.WhoAmI(ctx)
	if err != nil {
		if errors.Is(err, client.ErrUnauthenticated) {
			return nil, errLogin
		}
		return nil, err
	}
	if h.acls() && who.GetToken() == nil && !who.GetAclsDisabled() {
		return nil, errLogin
	}
	return &session{c: cl, who: who, csrf: h.csrfFor(h.sid(w, r)), ctx: ctx}, nil
}

// pageData is what every page template gets.
type pageData struct {
	Title   string
	Nav     string
	Viewer  string
	CSRF    string
	ACLs    bool
	Refresh int
	// Live narrows the page's live updates: namespace, cronjob, job.
	Live url.Values
	// LiveURL is the page's stream of live updates.
	LiveURL string
	Now     time.Time
	Flash   string
	Error   string
	Body    any
}

// page wraps a page builder: it opens the session, builds the page's data
// and renders the template the builder names.
func (h *Handler) page(build func(s *session, r *http.Request) (string, *pageData, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.session(w, r)
		if errors.Is(err, errLogin) {
			http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err != nil {
			h.renderError(w, http.StatusBadGateway, "The cluster's API did not answer: "+err.Error())
			return
		}
		// Changes after readAt may be missing from what build reads: the
		// page's live stream reports those it lists when it starts.
		readAt := h.cfg.Now().Add(-100 * time.Millisecond)
		tmpl, d, err := build(s, r)
		if err != nil {
			h.renderError(w, statusOf(err), err.Error())
			return
		}
		d.Viewer, d.CSRF, d.ACLs, d.Now = s.viewer(), s.csrf, h.acls(), h.cfg.Now()
		if d.Live == nil {
			d.Live = url.Values{}
		}
		d.Live.Set("at", strconv.FormatInt(readAt.UnixMilli(), 10))
		d.LiveURL = "/ui/live?" + d.Live.Encode()
		if d.Flash == "" {
			d.Flash = r.URL.Query().Get("flash")
		}
		h.render(w, http.StatusOK, tmpl, d)
	}
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, client.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, client.ErrPermissionDenied):
		return http.StatusForbidden
	case errors.Is(err, client.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, client.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusBadGateway
}

func (h *Handler) render(w http.ResponseWriter, code int, name string, d *pageData) {
	t, ok := h.pages[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(buf.String()))
}

func (h *Handler) renderError(w http.ResponseWriter, code int, msg string) {
	h.render(w, code, "error", &pageData{Title: http.StatusText(code), Error: msg, ACLs: h.acls(), Now: h.cfg.Now()})
}

type loginBody struct {
	Next string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if !h.acls() {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	sid := h.sid(w, r)
	d := &pageData{Title: "Log in", CSRF: h.csrfFor(sid), ACLs: true, Now: h.cfg.Now(), Body: loginBody{Next: safeNext(r.URL.Query().Get("next"))}}
	d.Error = r.URL.Query().Get("error")
	h.render(w, http.StatusOK, "login", d)
}

// login checks the token with WhoAmI and keeps it in the token cookie.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !h.acls() {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	if h.cfg.Plaintext && !fromLoopback(r) {
		h.renderError(w, http.StatusForbidden, "Login refused: this server serves its HTTP port in plain HTTP (--http-plaintext), so a token sent from another host would cross the network in clear. Log in through the HTTPS proxy in front of it, or serve HTTPS (drop --http-plaintext).")
		return
	}
	if !h.checkCSRF(r) {
		h.renderError(w, http.StatusForbidden, "The form expired or came from another site (CSRF check failed). Reload the page and try again.")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	token := strings.TrimSpace(r.PostFormValue("token"))
	fail := func(msg string) {
		http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(next)+"&error="+url.QueryEscape(msg), http.StatusSeeOther)
	}
	if token == "" {
		fail("token: enter an ACL token secret")
		return
	}
	cl, err := h.clientFor(token)
	if err != nil {
		fail(err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	who, err := cl.WhoAmI(ctx)
	if err == nil && who.GetToken() == nil && !who.GetAclsDisabled() {
		err = errors.New("the ACL token given is not valid (unknown or revoked)")
	}
	if err != nil {
		fail("token: " + err.Error())
		return
	}
	http.SetCookie(w, h.cookie(tokenCookie, token))
	h.newSID(w) // a new session, so a CSRF token seen before login is void
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.checkCSRF(r) {
		h.renderError(w, http.StatusForbidden, "CSRF check failed. Reload the page and try again.")
		return
	}
	for _, name := range []string{tokenCookie, sidCookie} {
		c := h.cookie(name, "")
		c.MaxAge = -1
		http.SetCookie(w, c)
	}
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// fromLoopback reports whether a request's peer is on this host.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// safeNext keeps a redirect target inside the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}

// action runs trigger, suspend or resume on a CronJob for a viewer whose
// token allows it, after the CSRF check.
func (h *Handler) action(w http.ResponseWriter, r *http.Request) {
	if !h.checkCSRF(r) {
		h.renderError(w, http.StatusForbidden, "The form expired or came from another site (CSRF check failed). Reload the page and try again.")
		return
	}
	s, err := h.session(w, r)
	if errors.Is(err, errLogin) {
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return
	}
	if err != nil {
		h.renderError(w, http.StatusBadGateway, err.Error())
		return
	}
	ns, name, act := r.PathValue("ns"), r.PathValue("name"), r.PathValue("action")
	var flash string
	switch act {
	case "trigger":
		var job *pb.Job
		job, err = s.c.Trigger(s.ctx, ns, name, "")
		if err == nil {
			flash = "Triggered: Job " + job.GetMetadata().GetName() + " created"
		}
	case "suspend", "resume":
		err = s.c.SetSuspend(s.ctx, client.KindCronJob, ns, name, act == "suspend")
		if err == nil {
			flash = "CronJob " + name + " " + map[bool]string{true: "suspended", false: "resumed"}[act == "suspend"]
		}
	default:
		h.renderError(w, http.StatusNotFound, fmt.Sprintf("action %q: not one of trigger, suspend, resume", act))
		return
	}
	if err != nil {
		h.renderError(w, statusOf(err), fmt.Sprintf("%s %s/%s: %v", act, ns, name, err))
		return
	}
	http.Redirect(w, r, cronJobURL(ns, name)+"?flash="+url.QueryEscape(flash), http.StatusSeeOther)
}

// jobLog streams an attempt's output as plain text; follow=1 keeps it open
// while the attempt runs.
func (h *Handler) jobLog(w http.ResponseWriter, r *http.Request) {
	s, err := h.session(w, r)
	if errors.Is(err, errLogin) {
		http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if err != nil {
		h.renderError(w, http.StatusBadGateway, err.Error())
		return
	}
	q := r.URL.Query()
	opts := client.LogOptions{Namespace: r.PathValue("ns"), Follow: q.Get("follow") == "1"}
	for _, p := range []struct {
		name string
		to   *int32
	}{{"index", &opts.Index}, {"attempt", &opts.Attempt}} {
		v, err := parseIntParam(q.Get(p.name), p.name)
		if err != nil {
			h.renderError(w, http.StatusBadRequest, err.Error())
			return
		}
		*p.to = int32(v)
	}
	ctx := r.Context()
	if !opts.Follow {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
		defer cancel()
	}
	rc, err := s.c.Logs(ctx, r.PathValue("name"), opts)
	if err != nil {
		h.renderError(w, statusOf(err), err.Error())
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fw := &flushWriter{w: w}
	if _, err := io.Copy(fw, rc); err != nil {
		fmt.Fprintf(fw, "\n[log stream ended: %v]\n", err)
	}
}

// flushWriter sends each piece of a followed log at once.
type flushWriter struct {
	w http.ResponseWriter
}

func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}
