package cluster

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// List paging. A list answer holds at most DefaultPageSize items (or the
// request's smaller limit) and stops before it grows past maxPageBytes, well
// under gRPC's 4 MB message limit, so no list fails however many objects
// there are. The continue token is the sort key of the last item sent: the
// next page starts after it, even if that item was deleted meanwhile.
const (
	// DefaultPageSize is the most items one List or ListAttempts answer holds.
	DefaultPageSize = 500
	maxPageBytes    = 2 << 20
)

// page cuts one page out of items, which are sorted by key.
func page[T proto.Message](items []T, key func(T) string, limit int32, token string) ([]T, string, error) {
	start := 0
	if token != "" {
		after, err := decodeToken(token)
		if err != nil {
			return nil, "", err
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	return cut(items[start:], key, pageSize(limit))
}

// pageSize is the most items a page holds: DefaultPageSize, or a smaller
// limit.
func pageSize(limit int32) int {
	if limit > 0 && int(limit) < DefaultPageSize {
		return int(limit)
	}
	return DefaultPageSize
}

func decodeToken(token string) (string, error) {
	after, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", fmt.Errorf("continue: %q is not a token from a previous answer: %w", token, pb.ErrInvalid)
	}
	return string(after), nil
}

// cut returns the first n items, fewer if they would outgrow maxPageBytes,
// and the continue token when items hold more.
func cut[T proto.Message](items []T, key func(T) string, n int) ([]T, string, error) {
	end, size := 0, 0
	for end < len(items) && end < n {
		size += proto.Size(items[end])
		if size > maxPageBytes && end > 0 {
			break
		}
		end++
	}
	if end >= len(items) {
		return items, "", nil
	}
	return items[:end], base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1]))), nil
}

// metaPage reads one page of objects kept in (namespace, name) order: read
// is called with the key to start after and how many to read, one more than
// the page holds, so that cut knows whether more follow.
func metaPage[T proto.Message](read func(afterNS, afterName string, max int) []T, key func(T) string, limit int32, token string) ([]T, string, error) {
	var afterNS, afterName string
	if token != "" {
		after, err := decodeToken(token)
		if err != nil {
			return nil, "", err
		}
		afterNS, afterName, _ = strings.Cut(after, "\x00")
	}
	n := pageSize(limit)
	return cut(read(afterNS, afterName, n+1), key, n)
}

// attemptsPage reads one page of the attempts of a namespace ("" = all)
// from the State's Job key index: only the Jobs the page covers are read.
func attemptsPage(st *raft.State, namespace string, limit int32, token string) ([]*pb.Attempt, string, error) {
	var fromNS, fromJob string
	var first func(*pb.Attempt) bool
	if token != "" {
		after, err := decodeToken(token)
		if err != nil {
			return nil, "", err
		}
		parts := strings.SplitN(after, "\x00", 3)
		if len(parts) < 3 {
			return nil, "", fmt.Errorf("continue: %q is not a token from a previous answer: %w", token, pb.ErrInvalid)
		}
		fromNS, fromJob = parts[0], parts[1]
		first = func(a *pb.Attempt) bool { return attemptSortKey(a) > after }
	}
	n := pageSize(limit)
	return cut(st.AttemptsFrom(namespace, fromNS, fromJob, first, n+1), attemptSortKey, n)
}

// metaKey orders objects by namespace, then name (the State's list order).
func metaKey(m *pb.ObjectMeta) string { return m.GetNamespace() + "\x00" + m.GetName() }

// attemptKey orders attempts as the State lists them: namespace, job,
// index, number, name (index and number are not negative).
func attemptSortKey(a *pb.Attempt) string {
	return a.GetNamespace() + "\x00" + a.GetJob() + "\x00" + pad(a.GetIndex()) + "\x00" + pad(a.GetNumber()) + "\x00" + a.GetName()
}

func pad(n int32) string {
	s := strconv.FormatInt(int64(n), 10)
	for len(s) < 10 {
		s = "0" + s
	}
	return s
}
