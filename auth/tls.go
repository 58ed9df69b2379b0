package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
)

// Credentials are what one process presents and trusts: its certificate and
// key, and the cluster CA(s). A CA file may hold several certificates (an
// old and a new CA during a rotation).
type Credentials struct {
	Roots    *x509.CertPool
	Cert     tls.Certificate
	Identity Identity
}

// LoadCredentials reads a CA bundle, a certificate and its key, and checks
// that the certificate names a raftcron identity and chains to the CA.
func LoadCredentials(caFile, certFile, keyFile string) (*Credentials, error) {
	switch {
	case caFile == "":
		return nil, errors.New("tls: a CA certificate file is required (--tls-ca)")
	case certFile == "":
		return nil, errors.New("tls: a certificate file is required (--tls-cert)")
	case keyFile == "":
		return nil, errors.New("tls: a key file is required (--tls-key)")
	}
	roots, err := LoadRoots(caFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load %s and %s: %w", certFile, keyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("tls: %s: %w", certFile, err)
		}
		cert.Leaf = leaf
	}
	id, err := IdentityOf(leaf)
	if err != nil {
		return nil, fmt.Errorf("tls: %s: %w", certFile, err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("tls: %s is not signed by the CA in %s: %w", certFile, caFile, err)
	}
	return &Credentials{Roots: roots, Cert: cert, Identity: id}, nil
}

// LoadRoots reads a CA bundle (PEM; several CAs during a rotation).
func LoadRoots(caFile string) (*x509.CertPool, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("tls: read CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("tls: %s holds no PEM certificate", caFile)
	}
	return roots, nil
}

// ServerTLS is the tls.Config of a listener: it requires a client
// certificate from the cluster CA whose role is one of accept.
func (c *Credentials) ServerTLS(accept ...Role) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{c.Cert},
		ClientCAs:    c.Roots,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := c.verify(cs.PeerCertificates, x509.ExtKeyUsageClientAuth, accept)
			return err
		},
	}
}

// HTTPSTLS is the tls.Config of a server's HTTP port (dashboard, health,
// metrics): the server certificate only. Client certificates are not asked
// for, so browsers and Prometheus (trusting the cluster CA) can connect;
// the dashboard's viewers log in with ACL tokens instead.
func (c *Credentials) HTTPSTLS() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{c.Cert}}
}

// ClientTLS is the tls.Config of everything that dials a server (clients,
// workers, servers to each other): the peer must present a server
// certificate from the cluster CA. Host names are not checked; the role is.
func (c *Credentials) ClientTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{c.Cert},
		RootCAs:      c.Roots,
		// Verification is done in VerifyConnection: the chain to the cluster
		// CA and the server role, without a host name (see package doc).
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := c.verify(cs.PeerCertificates, x509.ExtKeyUsageServerAuth, []Role{RoleServer})
			return err
		},
	}
}

// verify checks a peer's chain against the cluster CA and its role.
func (c *Credentials) verify(chain []*x509.Certificate, usage x509.ExtKeyUsage, accept []Role) (Identity, error) {
	if len(chain) == 0 {
		return Identity{}, errors.New("peer presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, ic := range chain[1:] {
		inter.AddCert(ic)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: c.Roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return Identity{}, fmt.Errorf("peer certificate: %w", err)
	}
	id, err := IdentityOf(chain[0])
	if err != nil {
		return Identity{}, err
	}
	if !slices.Contains(accept, id.Role) {
		return Identity{}, fmt.Errorf("peer %s: a %s certificate is not accepted here (want %v)", id, id.Role, accept)
	}
	return id, nil
}

// PeerIdentity is the identity of the verified leaf certificate of a TLS
// connection, or an error when the connection carries none.
func PeerIdentity(cs tls.ConnectionState) (Identity, error) {
	if len(cs.PeerCertificates) == 0 {
		return Identity{}, errors.New("no client certificate")
	}
	return IdentityOf(cs.PeerCertificates[0])
}
