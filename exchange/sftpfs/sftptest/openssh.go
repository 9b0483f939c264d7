package sftptest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHDPath is where Debian's openssh-server installs sshd.
const SSHDPath = "/usr/sbin/sshd"

// Server is a running SFTP server for a test.
type Server struct {
	Host string // 127.0.0.1
	Port int
	User string // the user to log in as (the current user)
	// KeyFile is a client private key (ed25519, unencrypted) the server
	// accepts.
	KeyFile string
	// KnownHosts lists all of the server's host keys for Host:Port.
	KnownHosts string
	// Root is a writable folder, as the client sees it (an absolute path:
	// no chroot), to use as the remote base folder.
	Root string
	// HostKeys are the server's public host keys, ed25519 first.
	HostKeys []ssh.PublicKey
	// Dir is the server's private temporary folder.
	Dir string

	t    testing.TB
	cmd  *exec.Cmd
	log  *bytes.Buffer
	auth string
	stop func()
}

// Addr returns "host:port".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, fmt.Sprint(s.Port)) }

// Stop shuts the server down (also done by t.Cleanup).
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
	}
}

// Authorize adds pub to the server's authorized keys.
func (s *Server) Authorize(pub ssh.PublicKey) {
	s.t.Helper()
	f, err := os.OpenFile(s.auth, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.t.Fatalf("sftptest: %v", err)
	}
	defer f.Close()
	if _, err := f.Write(ssh.MarshalAuthorizedKey(pub)); err != nil {
		s.t.Fatalf("sftptest: %v", err)
	}
}

// OpenSSHOptions tunes StartOpenSSHWith.
type OpenSSHOptions struct {
	// RSA adds an RSA host key (2048 bit; takes a moment to generate).
	RSA bool
	// NoECDSA leaves out the ECDSA host key (added by default so that
	// the server offers several key types).
	NoECDSA bool
	// Extra is appended to sshd_config.
	Extra string
	// HostCA, when set, signs every host key into a host certificate
	// (principal Host, valid for a day) that the server presents to
	// clients offering certificate algorithms.
	HostCA ssh.Signer
}

// StartOpenSSH starts OpenSSH's sshd on 127.0.0.1 at a free port with
// ed25519 and ECDSA host keys, public-key login for the current user and
// the internal-sftp subsystem. It skips the test when /usr/sbin/sshd is not
// installed (Debian/Ubuntu: apt-get install openssh-server).
func StartOpenSSH(t testing.TB) *Server { return StartOpenSSHWith(t, OpenSSHOptions{}) }

// StartOpenSSHWith is StartOpenSSH with options.
func StartOpenSSHWith(t testing.TB, opts OpenSSHOptions) *Server {
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		t.Skipf("sftptest: OpenSSH server not installed (%s missing; apt-get install openssh-server): %v", SSHDPath, err)
	}
	u, err := user.Current()
	if err != nil {
		t.Skipf("sftptest: cannot determine the current user: %v", err)
	}
	if u.Uid == "0" {
		// sshd running as root needs its privilege-separation folder,
		// which the service would create at boot.
		if _, err := os.Stat("/run/sshd"); os.IsNotExist(err) {
			_ = os.MkdirAll("/run/sshd", 0o755)
		}
	}
	dir := t.TempDir()
	s := &Server{Host: "127.0.0.1", User: u.Username, Dir: dir, t: t, log: &bytes.Buffer{}}
	s.Root = filepath.Join(dir, "root")
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	kinds := []KeyKind{Ed25519}
	if !opts.NoECDSA {
		kinds = append(kinds, ECDSA)
	}
	if opts.RSA {
		kinds = append(kinds, RSA)
	}
	var hostKeyLines []string
	for _, kind := range kinds {
		k := GenerateKey(t, kind, dir, "ssh_host_"+string(kind)+"_key", "")
		s.HostKeys = append(s.HostKeys, k.Public())
		hostKeyLines = append(hostKeyLines, "HostKey "+k.Path)
		if opts.HostCA != nil {
			cert := &ssh.Certificate{Key: k.Public(), CertType: ssh.HostCert, KeyId: "sftptest " + string(kind),
				ValidPrincipals: []string{s.Host}, ValidAfter: uint64(time.Now().Add(-time.Hour).Unix()),
				ValidBefore: uint64(time.Now().Add(24 * time.Hour).Unix())}
			if err := cert.SignCert(rand.Reader, opts.HostCA); err != nil {
				t.Fatalf("sftptest: signing a host certificate: %v", err)
			}
			certPath := k.Path + "-cert.pub"
			if err := os.WriteFile(certPath, ssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
				t.Fatal(err)
			}
			hostKeyLines = append(hostKeyLines, "HostCertificate "+certPath)
		}
	}
	client := GenerateKey(t, Ed25519, dir, "id_ed25519", "")
	s.KeyFile = client.Path
	s.auth = filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(s.auth, ssh.MarshalAuthorizedKey(client.Public()), 0o600); err != nil {
		t.Fatal(err)
	}

	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("sftptest: %v", err)
		}
		s.Port = port
		conf := strings.Join(append(hostKeyLines,
			fmt.Sprintf("Port %d", port),
			"ListenAddress 127.0.0.1",
			"PidFile "+filepath.Join(dir, "sshd.pid"),
			"AuthorizedKeysFile "+s.auth,
			"StrictModes no",
			"UsePAM no",
			"PubkeyAuthentication yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"PermitRootLogin prohibit-password",
			"UseDNS no",
			"MaxStartups 64",
			"LogLevel VERBOSE",
			"Subsystem sftp internal-sftp",
			opts.Extra,
		), "\n") + "\n"
		cfgPath := filepath.Join(dir, "sshd_config")
		if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		s.log.Reset()
		cmd := exec.Command(SSHDPath, "-D", "-e", "-f", cfgPath)
		cmd.Stdout = s.log
		cmd.Stderr = s.log
		if err := cmd.Start(); err != nil {
			t.Fatalf("sftptest: starting sshd: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if lastErr = waitBanner(s.Addr(), exited, 10*time.Second); lastErr == nil {
			s.cmd = cmd
			s.stop = func() {
				_ = cmd.Process.Kill()
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
				}
			}
			break
		}
		_ = cmd.Process.Kill()
		<-exited
	}
	if lastErr != nil {
		t.Fatalf("sftptest: sshd did not start: %v\nsshd log:\n%s", lastErr, s.log.String())
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.log.String())
		}
	})
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	WriteKnownHosts(t, s.KnownHosts, s.Host, s.Port, s.HostKeys...)
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitBanner waits until addr answers with an SSH banner.
func waitBanner(addr string, exited <-chan error, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("sshd exited: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "SSH-2.0-") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no SSH banner on %s within %s", addr, limit)
}
