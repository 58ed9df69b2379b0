package raft

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	hraft "github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Snapshot format:
//
//	header:  snapshotMagic, uvarint version
//	records: uvarint record type, uvarint length, length bytes of protobuf
//	trailer: uvarint recordEnd, uvarint number of records written
//
// Records are written in a fixed order (CronJobs, Jobs, Attempts, servers,
// each sorted, then the cluster settings) with deterministic marshaling, so equal states give equal
// snapshots. The trailer catches a truncated file.
var snapshotMagic = []byte("RAFTCRON-SNAPSHOT\n")

const (
	snapshotVersion = 1

	recordEnd      = 0
	recordCronJob  = 1
	recordJob      = 2
	recordAttempt  = 3
	recordServer   = 4
	recordSettings = 5
	// recordACLToken is one ACL token; recordACLBootstrapped (no payload)
	// says the ACLs were bootstrapped.
	recordACLToken        = 6
	recordACLBootstrapped = 7
	recordSecret          = 8
	// recordEvent is one event, in event order.
	recordEvent = 9
	// recordRunCount is one namespace's run counts in one hour.
	recordRunCount = 10
	maxRecordBytes = 256 << 20
)

type fsmSnapshot struct {
	// cronJobs are written without decoding their specs (appendMarshal).
	cronJobs []*storedCronJob
	jobs     []*pb.Job
	attempts []*pb.Attempt
	servers  []*pb.RegisterServer
	settings *pb.ClusterSettings
	tokens   []*pb.ACLToken
	aclBoot  bool
	secrets  []*pb.Secret
	events   []*pb.Event
	runs     []*pb.RunCount
}

var _ hraft.FSMSnapshot = (*fsmSnapshot)(nil)

// Persist writes the snapshot to sink, cancelling the sink on any error.
func (s *fsmSnapshot) Persist(sink hraft.SnapshotSink) error {
	if err := s.write(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("persist snapshot: close sink: %w", err)
	}
	return nil
}

// Release does nothing: the snapshot holds only shared immutable objects.
func (s *fsmSnapshot) Release() {}

func (s *fsmSnapshot) write(w io.Writer) error {
	slices.SortFunc(s.cronJobs, func(a, b *storedCronJob) int {
		return cmp.Or(cmp.Compare(a.namespace(), b.namespace()), cmp.Compare(a.name(), b.name()))
	})
	sortJobsByName(s.jobs)
	sortAttempts(s.attempts)
	servers := s.servers
	sortServers(servers)

	bw := bufio.NewWriterSize(w, 64<<10)
	var scratch [binary.MaxVarintLen64]byte
	putUvarint := func(v uint64) error {
		n := binary.PutUvarint(scratch[:], v)
		_, err := bw.Write(scratch[:n])
		return err
	}
	if _, err := bw.Write(snapshotMagic); err != nil {
		return err
	}
	if err := putUvarint(snapshotVersion); err != nil {
		return err
	}
	var count uint64
	mo := proto.MarshalOptions{Deterministic: true}
	var buf []byte
	// write writes one record of already marshaled bytes.
	write := func(typ uint64, buf []byte) error {
		if err := putUvarint(typ); err != nil {
			return err
		}
		if err := putUvarint(uint64(len(buf))); err != nil {
			return err
		}
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		count++
		return nil
	}
	record := func(typ uint64, m proto.Message) error {
		var err error
		buf, err = mo.MarshalAppend(buf[:0], m)
		if err != nil {
			return fmt.Errorf("marshal record type %d: %w", typ, err)
		}
		return write(typ, buf)
	}
	for _, c := range s.cronJobs {
		var err error
		if buf, err = c.appendMarshal(buf[:0]); err != nil {
			return fmt.Errorf("marshal record type %d: %w", recordCronJob, err)
		}
		if err := write(recordCronJob, buf); err != nil {
			return err
		}
	}
	for _, m := range s.jobs {
		if err := record(recordJob, m); err != nil {
			return err
		}
	}
	for _, m := range s.attempts {
		if err := record(recordAttempt, m); err != nil {
			return err
		}
	}
	for _, m := range servers {
		if err := record(recordServer, m); err != nil {
			return err
		}
	}
	if s.settings != nil {
		if err := record(recordSettings, s.settings); err != nil {
			return err
		}
	}
	sortTokens(s.tokens)
	for _, m := range s.tokens {
		if err := record(recordACLToken, m); err != nil {
			return err
		}
	}
	if s.aclBoot {
		if err := record(recordACLBootstrapped, &pb.ACLBootstrap{}); err != nil {
			return err
		}
	}
	sortSecrets(s.secrets)
	for _, m := range s.secrets {
		if err := record(recordSecret, m); err != nil {
			return err
		}
	}
	for _, m := range s.events {
		if err := record(recordEvent, m); err != nil {
			return err
		}
	}
	for _, m := range s.runs {
		if err := record(recordRunCount, m); err != nil {
			return err
		}
	}
	if err := putUvarint(recordEnd); err != nil {
		return err
	}
	if err := putUvarint(count); err != nil {
		return err
	}
	return bw.Flush()
}

func sortServers(servers []*pb.RegisterServer) {
	slices.SortFunc(servers, func(a, b *pb.RegisterServer) int { return cmp.Compare(a.GetNodeId(), b.GetNodeId()) })
}

// readSnapshot parses a snapshot into fresh tables with their indexes and
// derived CronJob status.active.
func readSnapshot(r io.Reader) (tables, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil {
		return tables{}, fmt.Errorf("read header: %w", err)
	}
	if !bytes.Equal(magic, snapshotMagic) {
		return tables{}, errors.New("not a raftcron snapshot (bad magic)")
	}
	version, err := binary.ReadUvarint(br)
	if err != nil {
		return tables{}, fmt.Errorf("read version: %w", err)
	}
	if version != snapshotVersion {
		return tables{}, fmt.Errorf("unsupported snapshot version %d (this build reads %d)", version, snapshotVersion)
	}
	t := newTables()
	var count uint64
	var buf []byte
	for {
		typ, err := binary.ReadUvarint(br)
		if err != nil {
			return tables{}, fmt.Errorf("record %d: read type: %w (truncated snapshot?)", count, noEOF(err))
		}
		if typ == recordEnd {
			want, err := binary.ReadUvarint(br)
			if err != nil {
				return tables{}, fmt.Errorf("read trailer: %w", noEOF(err))
			}
			if want != count {
				return tables{}, fmt.Errorf("trailer says %d records, read %d", want, count)
			}
			break
		}
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return tables{}, fmt.Errorf("record %d: read length: %w", count, noEOF(err))
		}
		if n > maxRecordBytes {
			return tables{}, fmt.Errorf("record %d: length %d exceeds %d bytes", count, n, maxRecordBytes)
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return tables{}, fmt.Errorf("record %d: read %d bytes: %w", count, n, noEOF(err))
		}
		switch typ {
		case recordCronJob:
			m := &pb.CronJob{}
			if err := proto.Unmarshal(buf, m); err != nil {
				return tables{}, fmt.Errorf("record %d: decode cronjob: %w", count, err)
			}
			t.putCronJob(m)
		case recordJob:
			m := &pb.Job{}
			if err := proto.Unmarshal(buf, m); err != nil {
				return tables{}, fmt.Errorf("record %d: decode job: %w", count, err)
			}
			t.putJob(m)
		case recordAttempt:
			m := &pb.Attempt{}
			if err := proto.Unmarshal(buf, m); err != nil {
				return tables{}, fmt.Errorf("record %d: decode attempt: %w", count, err)
			}
			t.putAttempt(m)
		case recordServer:
			m := &pb.RegisterServer{}
			if err := proto.Unmarshal(buf, m); err != nil {
				return tables{}, fmt.Errorf("record %d: decode server: %w", count, err)
			}
			t.servers[m.GetNodeId()] = m
		case recordSettings:
			m := &pb.ClusterSettings{}
			if err := proto.Unmarshal(buf, m); err != nil {
				return tables{}, fmt.Errorf("record %d: decode cluster settings: %w", count, err)
			}
			t.settings = m
		case recordACLToken:
			m := &pb.ACLToken{}
			if err := proto.Unmarshal(buf, m); err != nil {
				return tables{}, fmt.Errorf("record %d: decode acl token: %w", count, err)
			}
			t.acl.put(m)
		case recordACLBootstrapped:
			t.acl.bootstrapped = true
		case recordSecret:
			m := &pb.Secret{}
			if err := proto.Unmarshal(buf, m); err != nil {
				return tables{}, fmt.Errorf("record %d: decode secret: %w", count, err)
			}
			t.secrets[nsName{m.GetMetadata().GetNamespace(), m.GetMetadata().GetName()}] = m
		case recordEvent:
			m := &pb.Event{}
			if err := proto.Unmarshal(buf, m); err != nil {
				return tables{}, fmt.Errorf("record %d: decode event: %w", count, err)
			}
			t.events.evs = append(t.events.evs, m)
		case recordRunCount:
			m := &pb.RunCount{}
			if err := proto.Unmarshal(buf, m); err != nil {
				return tables{}, fmt.Errorf("record %d: decode run count: %w", count, err)
			}
			t.sum.putRunCount(m)
		default:
			return tables{}, fmt.Errorf("record %d: unknown record type %d", count, typ)
		}
		count++
	}
	t.flushActive()
	return t, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
