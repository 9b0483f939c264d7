package sftptest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Faults injects failures into the in-process server. Nil functions do
// nothing. Hooks run on the server's request goroutines; they may sleep
// (a slow server), return an error (sent to the client as the status; use
// sftp.ErrSSHFxPermissionDenied for "permission denied") or call
// InProcServer.CutConnections (a dropped connection).
type Faults struct {
	// Before runs before every request. method is pkg/sftp's request
	// method: "Get", "Put", "List", "Stat", "Lstat", "Rename",
	// "PosixRename", "Remove", "Mkdir", "Rmdir", "Setstat"; path is the
	// path the client sent.
	Before func(method, path string) error
	// Read runs before each read of a download at offset off.
	Read func(path string, off int64) error
	// Write runs before each write of an upload at offset off.
	Write func(path string, off int64) error
}

// InProcServer is an SFTP server over x/crypto/ssh and pkg/sftp's request
// server, serving the real folder Root on 127.0.0.1, with fault injection.
type InProcServer struct {
	Host       string
	Port       int
	User       string // any user name is accepted; this one is suggested
	KeyFile    string // an authorized client key (ed25519, unencrypted)
	KnownHosts string // known_hosts holding the current host keys
	Root       string // the folder served, as the client sees it (absolute)

	t        testing.TB
	mu       sync.Mutex
	faults   Faults
	hostKeys []ssh.Signer
	password string
	authed   []ssh.PublicKey
	ln       net.Listener
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup

	accepted   atomic.Int64
	keepalives atomic.Int64
	requests   atomic.Int64
}

// StartInProcess starts an in-process SFTP server with an ed25519 host key
// and a generated client key. faults may be nil and can be replaced with
// SetFaults.
func StartInProcess(t testing.TB, faults *Faults) *InProcServer {
	t.Helper()
	dir := t.TempDir()
	s := &InProcServer{Host: "127.0.0.1", User: "globe", t: t, conns: map[net.Conn]struct{}{}}
	if faults != nil {
		s.faults = *faults
	}
	s.Root = filepath.Join(dir, "root")
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	hk := GenerateKey(t, Ed25519, "", "", "")
	s.hostKeys = []ssh.Signer{hk.Signer}
	ck := GenerateKey(t, Ed25519, dir, "id_ed25519", "")
	s.KeyFile = ck.Path
	s.authed = []ssh.PublicKey{ck.Public()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	WriteKnownHosts(t, s.KnownHosts, s.Host, s.Port, hk.Public())
	s.serve(ln)
	t.Cleanup(func() {
		s.Stop()
		s.wg.Wait()
	})
	return s
}

// Addr returns "host:port".
func (s *InProcServer) Addr() string { return net.JoinHostPort(s.Host, fmt.Sprint(s.Port)) }

// SetFaults replaces the fault hooks.
func (s *InProcServer) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

func (s *InProcServer) getFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetPassword enables password (and keyboard-interactive) authentication
// with pw; "" disables it.
func (s *InProcServer) SetPassword(pw string) {
	s.mu.Lock()
	s.password = pw
	s.mu.Unlock()
}

// Authorize accepts pub for public-key authentication.
func (s *InProcServer) Authorize(pub ssh.PublicKey) {
	s.mu.Lock()
	s.authed = append(s.authed, pub)
	s.mu.Unlock()
}

// SetHostKeys replaces the host keys offered to new connections (known_hosts
// is not changed: use it to present a wrong or additional key).
func (s *InProcServer) SetHostKeys(keys ...ssh.Signer) {
	s.mu.Lock()
	s.hostKeys = keys
	s.mu.Unlock()
}

// Accepted counts the TCP connections accepted so far.
func (s *InProcServer) Accepted() int64 { return s.accepted.Load() }

// KeepAlives counts keepalive@openssh.com requests received.
func (s *InProcServer) KeepAlives() int64 { return s.keepalives.Load() }

// Requests counts SFTP requests that reached the file handlers.
func (s *InProcServer) Requests() int64 { return s.requests.Load() }

// CutConnections closes every open connection (the listener stays).
func (s *InProcServer) CutConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Stop closes the listener and all connections: the server is down.
func (s *InProcServer) Stop() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	s.mu.Unlock()
	s.CutConnections()
}

// Start listens again on the same port after Stop (a restart).
func (s *InProcServer) Start() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", s.Addr()); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Errorf("sftptest: restarting on %s: %v", s.Addr(), err)
		return
	}
	s.serve(ln)
}

func (s *InProcServer) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.handleConn(c)
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
		}
	}()
}

func (s *InProcServer) serverConfig() *ssh.ServerConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	conf := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, a := range s.authed {
				if string(a.Marshal()) == string(key.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		},
	}
	if pw := s.password; pw != "" {
		conf.PasswordCallback = func(_ ssh.ConnMetadata, given []byte) (*ssh.Permissions, error) {
			if string(given) == pw {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	for _, k := range s.hostKeys {
		conf.AddHostKey(k)
	}
	return conf
}

func (s *InProcServer) handleConn(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(c, s.serverConfig())
	if err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sc.Close()
	go func() {
		for r := range reqs {
			if r.Type == "keepalive@openssh.com" {
				s.keepalives.Add(1)
			}
			if r.WantReply {
				_ = r.Reply(r.Type == "keepalive@openssh.com", nil)
			}
		}
	}()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for r := range creqs {
				ok := r.Type == "subsystem" && len(r.Payload) > 4 && string(r.Payload[4:]) == "sftp"
				_ = r.Reply(ok, nil)
				if ok {
					go func() {
						h := &handler{s: s}
						rs := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
						_ = rs.Serve()
						rs.Close()
					}()
				}
			}
		}()
	}
}

// handler serves the real filesystem under Root, with faults.
type handler struct{ s *InProcServer }

func (h *handler) local(p string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(p))
	if !filepath.IsAbs(clean) {
		clean = filepath.Join(h.s.Root, clean)
	}
	if clean != h.s.Root && !strings.HasPrefix(clean, h.s.Root+string(filepath.Separator)) {
		return "", os.ErrPermission
	}
	return clean, nil
}

func (h *handler) before(method, p string) (string, error) {
	h.s.requests.Add(1)
	if f := h.s.getFaults().Before; f != nil {
		if err := f(method, p); err != nil {
			return "", err
		}
	}
	return h.local(p)
}

// Fileread implements sftp.FileReader.
func (h *handler) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	lp, err := h.before("Get", r.Filepath)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(lp)
	if err != nil {
		return nil, err
	}
	return &faultFile{f: f, s: h.s, path: r.Filepath}, nil
}

// Filewrite implements sftp.FileWriter.
func (h *handler) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	lp, err := h.before("Put", r.Filepath)
	if err != nil {
		return nil, err
	}
	fl := r.Pflags()
	flags := os.O_WRONLY
	if fl.Creat {
		flags |= os.O_CREATE
	}
	if fl.Trunc {
		flags |= os.O_TRUNC
	}
	if fl.Excl {
		flags |= os.O_EXCL
	}
	if fl.Append {
		flags |= os.O_APPEND
	}
	f, err := os.OpenFile(lp, flags, 0o644)
	if err != nil {
		return nil, err
	}
	return &faultFile{f: f, s: h.s, path: r.Filepath}, nil
}

// Filecmd implements sftp.FileCmder.
func (h *handler) Filecmd(r *sftp.Request) error {
	lp, err := h.before(r.Method, r.Filepath)
	if err != nil {
		return err
	}
	switch r.Method {
	case "Setstat":
		a := r.Attributes()
		if r.AttrFlags().Size {
			if err := os.Truncate(lp, int64(a.Size)); err != nil {
				return err
			}
		}
		return nil
	case "Rename":
		to, err := h.local(r.Target)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(to); err == nil {
			return sftp.ErrSSHFxFailure // like OpenSSH: plain rename never replaces
		}
		return os.Rename(lp, to)
	case "Rmdir", "Remove":
		return os.Remove(lp)
	case "Mkdir":
		return os.Mkdir(lp, 0o755)
	case "Symlink":
		to, err := h.local(r.Target)
		if err != nil {
			return err
		}
		return os.Symlink(lp, to)
	}
	return sftp.ErrSSHFxOpUnsupported
}

// PosixRename implements sftp.PosixRenameFileCmder: replaces the target.
func (h *handler) PosixRename(r *sftp.Request) error {
	lp, err := h.before("PosixRename", r.Filepath)
	if err != nil {
		return err
	}
	to, err := h.local(r.Target)
	if err != nil {
		return err
	}
	return os.Rename(lp, to)
}

// Filelist implements sftp.FileLister.
func (h *handler) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	lp, err := h.before(r.Method, r.Filepath)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case "List":
		des, err := os.ReadDir(lp)
		if err != nil {
			return nil, err
		}
		var out lister
		for _, de := range des {
			if fi, err := de.Info(); err == nil {
				out = append(out, fi)
			}
		}
		return out, nil
	case "Stat":
		fi, err := os.Stat(lp)
		if err != nil {
			return nil, err
		}
		return lister{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// Lstat implements sftp.LstatFileLister.
func (h *handler) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	lp, err := h.before("Lstat", r.Filepath)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(lp)
	if err != nil {
		return nil, err
	}
	return lister{fi}, nil
}

type lister []os.FileInfo

func (l lister) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if off+int64(n) >= int64(len(l)) {
		return n, io.EOF
	}
	return n, nil
}

type faultFile struct {
	f    *os.File
	s    *InProcServer
	path string
}

func (f *faultFile) ReadAt(b []byte, off int64) (int, error) {
	if h := f.s.getFaults().Read; h != nil {
		if err := h(f.path, off); err != nil {
			return 0, err
		}
	}
	return f.f.ReadAt(b, off)
}

func (f *faultFile) WriteAt(b []byte, off int64) (int, error) {
	if h := f.s.getFaults().Write; h != nil {
		if err := h(f.path, off); err != nil {
			return 0, err
		}
	}
	return f.f.WriteAt(b, off)
}

func (f *faultFile) Close() error { return f.f.Close() }
