package sftpfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("sftp client is closed")

// Error is a failed SFTP call. Its message names the end point, the
// operation and the remote path; it never holds a password or passphrase.
type Error struct {
	Op   string // "connect", "list", "stat", "download", "upload", "rename", "remove", "mkdir", "ping"
	Path string // remote path, if any
	Addr string // host:port
	User string
	// Transient reports a transport problem (connection lost, timeout,
	// server unreachable): retrying later may succeed. Not-found,
	// permission, exists, host-key and authentication errors are not.
	Transient bool
	Err       error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sftp %s@%s: %s", e.User, e.Addr, e.Op)
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	b.WriteString(": ")
	b.WriteString(describe(e.Err))
	return b.String()
}

// Unwrap returns the cause (fs.ErrNotExist, fs.ErrPermission, fs.ErrExist,
// os.ErrDeadlineExceeded, *HostKeyError, …).
func (e *Error) Unwrap() error { return e.Err }

func describe(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file or folder"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

// IsTransient reports whether err is a transport problem that a later retry
// may overcome (see Error.Transient).
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Transient
}

// permanentErr marks an error that says nothing bad about the connection.
type permanentErr struct{ err error }

func (p *permanentErr) Error() string { return p.err.Error() }
func (p *permanentErr) Unwrap() error { return p.err }

func permanent(err error) error { return &permanentErr{err} }

// timeoutErr is a call that made no progress within Config.Timeout.
type timeoutErr struct{ d time.Duration }

func (t *timeoutErr) Error() string {
	return fmt.Sprintf("no response from the server within %s (connection closed; it will be reopened)", t.d)
}
func (t *timeoutErr) Unwrap() error { return os.ErrDeadlineExceeded }

// transient reports whether err (from a call on an open connection) means
// the connection is unusable.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var p *permanentErr
	var hk *HostKeyError
	var se *sftp.StatusError
	switch {
	case errors.As(err, &p), errors.As(err, &hk):
		return false
	case errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &se):
		// 6 SSH_FX_NO_CONNECTION, 7 SSH_FX_CONNECTION_LOST
		return se.Code == 6 || se.Code == 7
	case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission), errors.Is(err, os.ErrExist):
		return false
	}
	return true
}

// Client is an SFTP end point. It is safe for concurrent use; calls beyond
// Config.MaxSessions wait for a free session.
type Client struct {
	cfg   Config
	log   zerolog.Logger
	slots chan struct{}
	dialL chan struct{} // one dialer at a time

	mu       sync.Mutex
	cur      *conn
	closed   bool
	failures int
	nextDial time.Time
	lastErr  error
	stale    map[string]bool // temp files to remove once connected again
	seq      atomic.Uint64   // numbers the connections dialled
}

// conn is one SSH connection with its pool of SFTP sessions.
type conn struct {
	ssh      *ssh.Client
	idle     chan *sftp.Client
	posix    bool
	hostKey  HostKey
	hkAlgo   string
	seq      uint64       // this connection's number (Client.seq)
	reply    atomic.Int64 // UnixNano of the server's last answer to a call
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	sessions []*sftp.Client
}

func (k *conn) close() {
	k.once.Do(func() {
		close(k.done)
		k.ssh.Close()
		k.mu.Lock()
		ss := k.sessions
		k.mu.Unlock()
		for _, s := range ss {
			go s.Close()
		}
	})
}

func (k *conn) isClosed() bool {
	select {
	case <-k.done:
		return true
	default:
		return false
	}
}

// New validates cfg and returns a Client that connects on first use.
func New(cfg Config, log zerolog.Logger) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Client{
		cfg:   cfg,
		log:   log.With().Str("sftp", cfg.User+"@"+cfg.Addr()).Logger(),
		slots: make(chan struct{}, cfg.MaxSessions),
		dialL: make(chan struct{}, 1),
		stale: map[string]bool{},
	}, nil
}

// Dial is New followed by Ping: it connects, verifies the host key,
// authenticates and checks that Config.Dir exists.
func Dial(ctx context.Context, cfg Config, log zerolog.Logger) (*Client, error) {
	c, err := New(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Config returns the configuration in use, with defaults applied.
func (c *Client) Config() Config { return c.cfg }

// ConnInfo describes the current connection.
type ConnInfo struct {
	HostKey          HostKey // the verified server key
	HostKeyAlgorithm string  // negotiated, e.g. "ssh-ed25519", "rsa-sha2-512"
	PosixRename      bool    // server offers posix-rename@openssh.com
	// Seq numbers the connections of this Client, from 1: it changes
	// after every reconnect, so a caller can tell that something it
	// learned about the server (a folder exists) may need checking again.
	Seq uint64
	// LastReply is when the server last answered a call on this
	// connection (a success or a refusal such as "no such file"): the
	// connection was alive then.
	LastReply time.Time
}

// Info returns details of the open connection; ok is false when none is open.
func (c *Client) Info() (info ConnInfo, ok bool) {
	c.mu.Lock()
	k := c.cur
	c.mu.Unlock()
	if k == nil || k.isClosed() {
		return ConnInfo{}, false
	}
	return ConnInfo{HostKey: k.hostKey, HostKeyAlgorithm: k.hkAlgo, PosixRename: k.posix,
		Seq: k.seq, LastReply: time.Unix(0, k.reply.Load())}, true
}

// Close closes the connection. Calls in progress fail.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	k := c.cur
	c.cur = nil
	c.mu.Unlock()
	if k != nil {
		k.close()
	}
	return nil
}

func (c *Client) errorf(op, p string, err error) error {
	var hk *HostKeyError
	if errors.As(err, &hk) {
		return hk // already names the host; never retried
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Op: op, Path: p, Addr: c.cfg.Addr(), User: c.cfg.User, Transient: transient(err), Err: err}
}

// backoff returns the wait before dial attempt n+1 after n failures:
// exponential from 200 ms, capped at 30 s, with jitter (50–100 %).
func backoff(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := 200 * time.Millisecond
	for i := 1; i < n && d < 30*time.Second; i++ {
		d *= 2
	}
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}

const maxAttempts = 5

// do runs fn on a session, reconnecting and retrying transport failures
// while retry() allows it, within Config.Timeout overall.
func (c *Client) do(ctx context.Context, op, p string, retry func() bool, fn func(s *sftp.Client, k *conn, touch func()) error) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, start, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return c.errorf(op, p, fmt.Errorf("%w (%v)", ctx.Err(), err))
		}
		if !transient(err) || retry == nil || !retry() || attempt >= maxAttempts || time.Since(start) >= c.cfg.Timeout {
			return c.errorf(op, p, err)
		}
		c.log.Debug().Err(err).Str("op", op).Int("attempt", attempt).Msg("sftp call failed; retrying")
	}
}

func (c *Client) attempt(ctx context.Context, start time.Time, fn func(s *sftp.Client, k *conn, touch func()) error) error {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.slots }()

	k, err := c.getConn(ctx, start)
	if err != nil {
		return err
	}
	var s *sftp.Client
	select {
	case s = <-k.idle:
	default:
		err = c.watch(ctx, k, func(func()) error {
			var err error
			s, err = c.newSession(k)
			return err
		})
		if err != nil {
			c.drop(k, err)
			return err
		}
	}
	c.cleanStale(ctx, k, s)
	err = c.watch(ctx, k, func(touch func()) error { return fn(s, k, touch) })
	if transient(err) || ctx.Err() != nil {
		c.drop(k, err)
		return err
	}
	k.reply.Store(time.Now().UnixNano())
	select {
	case k.idle <- s:
	default:
		s.Close()
	}
	return err
}

// watch runs fn and closes the connection when fn makes no progress (calls
// to touch) within Config.Timeout or when ctx ends: pkg/sftp calls cannot
// be interrupted otherwise.
func (c *Client) watch(ctx context.Context, k *conn, fn func(touch func()) error) error {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	touch := func() { last.Store(time.Now().UnixNano()) }
	done := make(chan struct{})
	var fired atomic.Int32 // 1 timeout, 2 canceled
	go func() {
		t := time.NewTimer(c.cfg.Timeout)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-k.done:
				return
			case <-ctx.Done():
				fired.Store(2)
				k.close()
				return
			case <-t.C:
				idle := time.Since(time.Unix(0, last.Load()))
				if idle >= c.cfg.Timeout {
					fired.Store(1)
					c.log.Warn().Dur("timeout", c.cfg.Timeout).Msg("sftp call made no progress; closing the connection")
					k.close()
					return
				}
				t.Reset(c.cfg.Timeout - idle)
			}
		}
	}()
	err := fn(touch)
	close(done)
	switch fired.Load() {
	case 1:
		return &timeoutErr{c.cfg.Timeout}
	case 2:
		return ctx.Err()
	}
	return err
}

func (c *Client) newSession(k *conn) (*sftp.Client, error) {
	s, err := sftp.NewClient(k.ssh,
		sftp.MaxConcurrentRequestsPerFile(64),
		sftp.UseConcurrentReads(true),
		sftp.UseConcurrentWrites(true),
	)
	if err != nil {
		return nil, fmt.Errorf("opening the SFTP subsystem: %w", err)
	}
	k.mu.Lock()
	k.sessions = append(k.sessions, s)
	k.mu.Unlock()
	return s, nil
}

// drop discards k after a transport failure; the next call reconnects.
func (c *Client) drop(k *conn, err error) {
	c.mu.Lock()
	if c.cur == k {
		c.cur = nil
		c.log.Info().Err(err).Msg("sftp connection lost; will reconnect")
	}
	c.mu.Unlock()
	k.close()
}

// getConn returns the open connection or dials a new one, honouring the
// backoff after failed dials.
func (c *Client) getConn(ctx context.Context, start time.Time) (*conn, error) {
	if k, err := c.current(); k != nil || err != nil {
		return k, err
	}
	select {
	case c.dialL <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.dialL }()
	if k, err := c.current(); k != nil || err != nil {
		return k, err
	}
	c.mu.Lock()
	wait := time.Until(c.nextDial)
	lastErr := c.lastErr
	c.mu.Unlock()
	if wait > 0 {
		if lastErr != nil && time.Since(start)+wait > c.cfg.Timeout {
			return nil, fmt.Errorf("%w (next connection attempt in %s)", lastErr, wait.Round(time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	k, err := c.dial(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if transient(err) {
			// Unreachable: back off before the next attempt.
			c.failures++
			c.nextDial = time.Now().Add(backoff(c.failures))
			c.lastErr = err
		} else {
			// A refusal (host key, authentication, configuration) is
			// re-checked on the next call, so a fix such as `globex
			// trust` takes effect at once; the caller's poll interval
			// paces it.
			c.failures, c.lastErr, c.nextDial = 0, nil, time.Time{}
		}
		c.log.Warn().Err(err).Int("failures", c.failures).Msg("sftp connect failed")
		return nil, err
	}
	if c.closed {
		k.close()
		return nil, permanent(ErrClosed)
	}
	c.failures, c.lastErr, c.nextDial = 0, nil, time.Time{}
	c.cur = k
	return k, nil
}

func (c *Client) current() (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, permanent(ErrClosed)
	}
	if c.cur != nil && !c.cur.isClosed() {
		return c.cur, nil
	}
	c.cur = nil
	return nil, nil
}

// dial opens, verifies and authenticates one SSH connection and its first
// SFTP session.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	cfg := c.cfg
	methods, authDesc, err := cfg.authMethods()
	if err != nil {
		return nil, permanent(err)
	}
	var seen HostKey
	cb, algos, err := hostKeyPolicy(cfg, &seen)
	if err != nil {
		return nil, permanent(err)
	}
	addr := cfg.Addr()
	conf := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              methods,
		HostKeyCallback:   cb,
		HostKeyAlgorithms: algos,
		Timeout:           cfg.Timeout,
		ClientVersion:     "SSH-2.0-globex",
	}
	nc, err := dialTCP(ctx, addr, cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the server: %w", err)
	}
	_ = nc.SetDeadline(time.Now().Add(cfg.Timeout))
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, conf)
	stop()
	if err != nil {
		nc.Close()
		var hk *HostKeyError
		msg := err.Error()
		switch {
		case errors.As(err, &hk):
			return nil, hk
		case strings.Contains(msg, "unable to authenticate"):
			return nil, permanent(fmt.Errorf("authentication as %q failed (tried %s): %v", cfg.User, authDesc, err))
		case strings.Contains(msg, "no common algorithm for host key"):
			return nil, permanent(fmt.Errorf("the server offers none of the host-key algorithms known for it in %s (we offered %s%s): %v",
				cfg.KnownHosts, strings.Join(algos, ","), sha1Hint(cfg, algos), err))
		case ctx.Err() != nil:
			return nil, ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("SSH handshake got no answer within %s: %w", cfg.Timeout, err)
		}
		return nil, fmt.Errorf("SSH handshake failed: %w", err)
	}
	_ = nc.SetDeadline(time.Time{})
	k := &conn{
		ssh:     ssh.NewClient(sc, chans, reqs),
		idle:    make(chan *sftp.Client, cfg.MaxSessions),
		done:    make(chan struct{}),
		hostKey: seen,
		seq:     c.seq.Add(1),
	}
	k.reply.Store(time.Now().UnixNano()) // the handshake was an answer
	if am, ok := sc.(ssh.AlgorithmsConnMetadata); ok {
		k.hkAlgo = am.Algorithms().HostKey
	}
	var s *sftp.Client
	err = c.watch(ctx, k, func(func()) error {
		var err error
		s, err = c.newSession(k)
		return err
	})
	if err != nil {
		k.close()
		return nil, err
	}
	_, k.posix = s.HasExtension("posix-rename@openssh.com")
	k.idle <- s
	go func() {
		_ = k.ssh.Wait()
		k.close()
	}()
	go c.keepalive(k)
	c.log.Debug().Str("hostkey", seen.String()).Str("algorithm", k.hkAlgo).Bool("posix_rename", k.posix).Msg("sftp connected")
	return k, nil
}

func sha1Hint(cfg Config, algos []string) string {
	if cfg.AllowSHA1RSA {
		return ""
	}
	for _, a := range algos {
		if a == ssh.KeyAlgoRSASHA256 {
			return "; if the server only signs with ssh-rsa (SHA-1), set allow_sha1_rsa"
		}
	}
	return ""
}

// keepalive sends keepalive@openssh.com every Config.KeepAlive and closes
// the connection when the server stops answering.
func (c *Client) keepalive(k *conn) {
	if c.cfg.KeepAlive < 0 {
		return
	}
	t := time.NewTicker(c.cfg.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-k.done:
			return
		case <-t.C:
		}
		res := make(chan error, 1)
		go func() {
			_, _, err := k.ssh.SendRequest("keepalive@openssh.com", true, nil)
			res <- err
		}()
		timer := time.NewTimer(c.cfg.Timeout)
		select {
		case err := <-res:
			timer.Stop()
			if err != nil {
				c.drop(k, fmt.Errorf("keepalive: %w", err))
				return
			}
		case <-timer.C:
			c.drop(k, fmt.Errorf("keepalive: no answer within %s", c.cfg.Timeout))
			return
		case <-k.done:
			timer.Stop()
			return
		}
	}
}

// cleanStale removes temporary upload files left by failed uploads whose
// cleanup could not reach the server.
func (c *Client) cleanStale(ctx context.Context, k *conn, s *sftp.Client) {
	c.mu.Lock()
	if len(c.stale) == 0 {
		c.mu.Unlock()
		return
	}
	var names []string
	for n := range c.stale {
		names = append(names, n)
	}
	c.mu.Unlock()
	for _, n := range names {
		err := c.watch(ctx, k, func(func()) error { return s.Remove(n) })
		if err == nil || errors.Is(err, os.ErrNotExist) {
			c.mu.Lock()
			delete(c.stale, n)
			c.mu.Unlock()
		} else {
			return
		}
	}
}

// progressWriter feeds the checksum and the watchdog while copying.
type progressWriter struct {
	w     io.Writer
	h     io.Writer
	touch func()
	n     *int64
}

// localErr is a failure of the local reader or writer, not of the server.
type localErr struct{ err error }

func (l *localErr) Error() string { return "local: " + l.err.Error() }
func (l *localErr) Unwrap() error { return l.err }

func (p *progressWriter) Write(b []byte) (int, error) {
	p.touch()
	p.h.Write(b)
	n, err := p.w.Write(b)
	*p.n += int64(n)
	if err != nil {
		return n, permanent(&localErr{err})
	}
	return n, nil
}

type progressReader struct {
	r     io.Reader
	touch func()
	n     int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	p.touch()
	n, err := p.r.Read(b)
	p.n += int64(n)
	if err != nil && err != io.EOF {
		return n, permanent(&localErr{err})
	}
	return n, err
}
