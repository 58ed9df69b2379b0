package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

// Verb is what a scoped token may do in its namespaces.
type Verb string

const (
	// VerbRead: get, list, describe, attempts, workers, members.
	VerbRead Verb = "read"
	// VerbWrite: apply, delete, suspend, resume.
	VerbWrite Verb = "write"
	// VerbTrigger: start a CronJob's run now.
	VerbTrigger Verb = "trigger"
	// VerbLogs: read a run's output.
	VerbLogs Verb = "logs"
)

// Verbs lists every verb, in the order help texts show them.
var Verbs = []Verb{VerbRead, VerbWrite, VerbTrigger, VerbLogs}

// AllNamespaces in a token's namespaces means every namespace.
const AllNamespaces = "*"

// Sentinel errors of Authorize and Lookup; cluster/ maps them to
// codes.Unauthenticated and codes.PermissionDenied.
var (
	ErrUnauthenticated  = errors.New("unauthenticated")
	ErrPermissionDenied = errors.New("permission denied")
)

// secretPrefix marks raftcron secrets, so a leaked one is recognisable
// (secret scanners, logs).
const secretPrefix = "rcs_"

// NewSecret returns a new random token secret (256 bits).
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token secret: %w", err)
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashSecret is what the state stores for a secret: hex SHA-256.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SameHash compares two secret hashes in constant time.
func SameHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// ValidateTokenRequest checks the scope of a token to be created: a
// management token names no namespaces or verbs; any other names at least
// one of each, every verb known and every namespace a valid name or "*".
func ValidateTokenRequest(r *pb.ACLTokenCreateRequest) error {
	if r.GetName() == "" {
		return errors.New("acl token: name is required (--name)")
	}
	if len(r.GetName()) > 128 {
		return errors.New("acl token: name is longer than 128 characters")
	}
	if r.GetTtlSeconds() < 0 {
		return fmt.Errorf("acl token: ttl %ds is negative", r.GetTtlSeconds())
	}
	if r.GetManagement() {
		if len(r.GetNamespaces()) > 0 || len(r.GetVerbs()) > 0 {
			return errors.New("acl token: a management token may do everything; give no --namespace or --verbs with --management")
		}
		return nil
	}
	if len(r.GetNamespaces()) == 0 {
		return errors.New("acl token: at least one namespace is required (--namespace NS, or '*' for all)")
	}
	for _, ns := range r.GetNamespaces() {
		if ns == AllNamespaces {
			continue
		}
		if p := scheduler.NamespaceProblem(ns); p != "" {
			return fmt.Errorf("acl token: namespace: %s", p)
		}
	}
	if len(r.GetVerbs()) == 0 {
		return errors.New("acl token: at least one verb is required (--verbs read,write,trigger,logs)")
	}
	for _, v := range r.GetVerbs() {
		if !slices.Contains(Verbs, Verb(v)) {
			return fmt.Errorf("acl token: verb %q: want one of read, write, trigger, logs", v)
		}
	}
	return nil
}

// Expired reports whether a token has expired at now.
func Expired(t *pb.ACLToken, now time.Time) bool {
	exp := t.GetExpirationTime()
	return exp != nil && !now.Before(exp.AsTime())
}

// Authorize decides whether token t may do verb in namespace at now. ns ""
// asks for the verb in any namespace (cluster-wide reads such as workers).
// A management token may do everything; Management-only operations pass
// verb "" and are refused to every other token.
func Authorize(t *pb.ACLToken, now time.Time, ns string, verb Verb) error {
	if t == nil {
		return fmt.Errorf("%w: no valid token", ErrUnauthenticated)
	}
	if Expired(t, now) {
		return fmt.Errorf("%w: token %q expired at %s", ErrUnauthenticated, t.GetName(), t.GetExpirationTime().AsTime().UTC().Format(time.RFC3339))
	}
	if t.GetManagement() {
		return nil
	}
	if verb == "" {
		return fmt.Errorf("%w: token %q is not a management token", ErrPermissionDenied, t.GetName())
	}
	if !slices.Contains(t.GetVerbs(), string(verb)) {
		return fmt.Errorf("%w: token %q may not %s (it may %s)", ErrPermissionDenied, t.GetName(), verb, strings.Join(t.GetVerbs(), ", "))
	}
	if ns == "" || slices.Contains(t.GetNamespaces(), AllNamespaces) || slices.Contains(t.GetNamespaces(), ns) {
		return nil
	}
	return fmt.Errorf("%w: token %q may not %s in namespace %q (its namespaces: %s)", ErrPermissionDenied, t.GetName(), verb, ns, strings.Join(t.GetNamespaces(), ", "))
}

// Public is a token as clients may see it: without its secret hash.
func Public(t *pb.ACLToken) *pb.ACLToken {
	if t == nil {
		return nil
	}
	return &pb.ACLToken{
		AccessorId: t.GetAccessorId(), Name: t.GetName(), Management: t.GetManagement(),
		Namespaces: t.GetNamespaces(), Verbs: t.GetVerbs(),
		CreateTime: t.GetCreateTime(), ExpirationTime: t.GetExpirationTime(),
	}
}

// TokenHeader is the gRPC metadata key that carries a token, as
// "Bearer <secret>".
const TokenHeader = "authorization"

// BearerToken sends a token secret with every gRPC call (it implements
// grpc/credentials.PerRPCCredentials), and only over TLS.
type BearerToken string

func (t BearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{TokenHeader: "Bearer " + string(t)}, nil
}

func (BearerToken) RequireTransportSecurity() bool { return true }
