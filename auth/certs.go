package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Role is what a certificate allows its holder to be.
type Role string

const (
	RoleServer Role = "server"
	RoleWorker Role = "worker"
	RoleClient Role = "client"
)

// ParseRole accepts server, worker or client.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleServer, RoleWorker, RoleClient:
		return r, nil
	}
	return "", fmt.Errorf("role %q: want server, worker or client", s)
}

// Identity is who a verified peer is: the role and name its certificate names.
type Identity struct {
	Role Role
	Name string
}

func (id Identity) String() string { return string(id.Role) + "/" + id.Name }

// uriScheme is the scheme of the URI SAN that carries a certificate's identity.
const uriScheme = "raftcron"

func identityURI(id Identity) *url.URL {
	return &url.URL{Scheme: uriScheme, Host: string(id.Role), Path: "/" + id.Name}
}

// IdentityOf reads the identity a leaf certificate names, or an error when
// it names none (a certificate not made for raftcron).
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	for _, u := range cert.URIs {
		if u.Scheme != uriScheme {
			continue
		}
		role, err := ParseRole(u.Host)
		if err != nil {
			return Identity{}, fmt.Errorf("certificate %q: %w", cert.Subject.CommonName, err)
		}
		name := u.Path
		if len(name) > 0 && name[0] == '/' {
			name = name[1:]
		}
		if name == "" {
			return Identity{}, fmt.Errorf("certificate %q: identity %s names no %s", cert.Subject.CommonName, u, role)
		}
		return Identity{Role: role, Name: name}, nil
	}
	return Identity{}, fmt.Errorf("certificate %q carries no raftcron identity (URI SAN %s://<role>/<name>)", cert.Subject.CommonName, uriScheme)
}

// File names CreateCA and CreateCert write in their directory.
const (
	CAFile    = "ca.pem"
	CAKeyFile = "ca-key.pem"
)

// CertFiles are the certificate and key files CreateCert writes for name.
func CertFiles(dir, name string) (cert, key string) {
	return filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
}

// CAOptions shape a new CA.
type CAOptions struct {
	// Name is the CA's common name (default "raftcron CA").
	Name string
	// Validity defaults to 10 years.
	Validity time.Duration
	// Now defaults to time.Now (tests pass a fixed time).
	Now time.Time
}

// CreateCA makes a CA key and self-signed certificate in dir (ca.pem,
// ca-key.pem). It refuses to overwrite an existing CA.
func CreateCA(dir string, opt CAOptions) error {
	if opt.Name == "" {
		opt.Name = "raftcron CA"
	}
	if opt.Validity == 0 {
		opt.Validity = 10 * 365 * 24 * time.Hour
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("create CA: %s exists; refusing to overwrite a CA (remove it first to start over)", p)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("create CA: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: opt.Name, Organization: []string{"raftcron"}},
		NotBefore:             opt.Now.Add(-time.Minute),
		NotAfter:              opt.Now.Add(opt.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create CA: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create CA: %w", err)
	}
	if err := writeKey(keyPath, key); err != nil {
		return fmt.Errorf("create CA: %w", err)
	}
	if err := writePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
		return fmt.Errorf("create CA: %w", err)
	}
	return nil
}

// CertOptions shape a leaf certificate.
type CertOptions struct {
	Role Role
	// Name is the node id (server), the worker id (worker) or the user's name (client).
	Name string
	// IPs and DNSNames are added as SANs; a server certificate always names
	// 127.0.0.1, ::1 and localhost too.
	IPs      []net.IP
	DNSNames []string
	// Validity defaults to 1 year.
	Validity time.Duration
	Now      time.Time
}

// CreateCert signs a certificate for opt.Role and opt.Name with the CA in
// caDir and writes NAME.pem and NAME-key.pem (0600) into outDir, with a copy
// of the CA certificate as ca.pem when outDir has none. It returns the
// certificate and key paths.
func CreateCert(caDir, outDir string, opt CertOptions) (certPath, keyPath string, err error) {
	if _, err := ParseRole(string(opt.Role)); err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	if err := ValidName(opt.Name); err != nil {
		return "", "", fmt.Errorf("create certificate: --name: %w", err)
	}
	if opt.Validity == 0 {
		opt.Validity = 365 * 24 * time.Hour
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	caCert, caKey, err := loadCA(caDir)
	if err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return "", "", err
	}
	id := Identity{Role: opt.Role, Name: opt.Name}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: opt.Name, OrganizationalUnit: []string{string(opt.Role)}, Organization: []string{"raftcron"}},
		NotBefore:    opt.Now.Add(-time.Minute),
		NotAfter:     opt.Now.Add(opt.Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		// Servers dial each other (Raft, forwarding), so they are clients too.
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{identityURI(id)},
		IPAddresses: opt.IPs,
		DNSNames:    opt.DNSNames,
	}
	if opt.Role == RoleServer {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tmpl.IPAddresses = appendIPs(tmpl.IPAddresses, net.ParseIP("127.0.0.1"), net.ParseIP("::1"))
		tmpl.DNSNames = appendNames(tmpl.DNSNames, "localhost", opt.Name)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	certPath, keyPath = CertFiles(outDir, opt.Name)
	if err := writeKey(keyPath, key); err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	if err := writePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	if caCopy := filepath.Join(outDir, CAFile); filepath.Clean(outDir) != filepath.Clean(caDir) {
		if _, err := os.Stat(caCopy); errors.Is(err, os.ErrNotExist) {
			if err := writePEM(caCopy, "CERTIFICATE", caCert.Raw, 0o644); err != nil {
				return "", "", fmt.Errorf("create certificate: %w", err)
			}
		}
	}
	return certPath, keyPath, nil
}

// ValidName accepts the names certificates, workers and nodes may have: 1 to
// 253 characters of letters, digits, '-', '_' and '.', not starting with '.'.
// Such a name is safe as a file name and in a URI.
func ValidName(name string) error {
	if name == "" {
		return errors.New("a name is required")
	}
	if len(name) > 253 {
		return fmt.Errorf("%q is longer than 253 characters", name)
	}
	if name[0] == '.' {
		return fmt.Errorf("%q must not start with '.'", name)
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return fmt.Errorf("%q: only letters, digits, '-', '_' and '.' are allowed", name)
		}
	}
	return nil
}

func appendIPs(ips []net.IP, more ...net.IP) []net.IP {
	for _, m := range more {
		found := false
		for _, ip := range ips {
			found = found || ip.Equal(m)
		}
		if !found {
			ips = append(ips, m)
		}
	}
	return ips
}

func appendNames(names []string, more ...string) []string {
	for _, m := range more {
		found := false
		for _, n := range names {
			found = found || n == m
		}
		if !found {
			names = append(names, m)
		}
	}
	return names
}

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	return serial, nil
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, nil, fmt.Errorf("read CA: %w (create one with `raftcron tls ca create --out %s`)", err, dir)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("read CA key: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("%s: no PEM certificate", filepath.Join(dir, CAFile))
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, CAFile), err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, nil, fmt.Errorf("%s: no PEM key", filepath.Join(dir, CAKeyFile))
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, CAKeyFile), err)
	}
	return cert, key, nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

// writePEM writes a PEM block to a temporary file, syncs it and renames it
// into place.
func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := pem.Encode(tmp, &pem.Block{Type: typ, Bytes: der}); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
