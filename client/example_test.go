package client_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
)

// Dial a three-server cluster and apply a CronJob from a manifest. Calls
// follow the leader and retry across elections until their context ends.
func Example() {
	// The cluster CA, this program's client certificate, and an ACL token
	// (raftcron acl token create ...).
	creds, err := auth.LoadCredentials("/etc/raftcron/ca.pem", "/etc/raftcron/reporter.pem", "/etc/raftcron/reporter-key.pem")
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.New(client.Config{
		Servers: []string{"10.0.0.1:8001", "10.0.0.2:8001", "10.0.0.3:8001"},
		TLS:     creds,
		Token:   os.Getenv("RAFTCRON_TOKEN"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	manifest := `
apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "*/5 * * * *"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: hello
            image: busybox:1.36
            command: ["sh", "-c", "date; echo hello"]
`
	resources, warnings, err := client.DecodeManifests(strings.NewReader(manifest), client.DecodeOptions{Namespace: "default"})
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range warnings {
		log.Printf("warning: %s", w)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results, err := c.Apply(ctx, resources, false)
	if err != nil {
		log.Fatal(err) // the server's message, e.g. a bad schedule named by field
	}
	for _, r := range results {
		fmt.Printf("%s/%s %s\n", strings.ToLower(r.GetKind()), r.GetName(), r.GetAction())
	}
}
