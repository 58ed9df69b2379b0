package client

import (
	"strings"
	"testing"
)

const secretManifest = `apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  password: czNjcjN0
stringData:
  user: admin
---
apiVersion: batch/v1
kind: Job
metadata:
  name: uses-db
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox:1
        env:
        - name: PASSWORD
          valueFrom:
            secretKeyRef: {name: db, key: password, optional: false}
`

func TestDecodeSecretAndSecretKeyRef(t *testing.T) {
	res, _, err := decodeString(t, secretManifest, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec := res[0].GetSecret()
	if string(sec.GetData()["password"]) != "s3cr3t" || sec.GetStringData()["user"] != "admin" || sec.GetMetadata().GetNamespace() != "default" {
		t.Fatalf("secret = %v", sec)
	}
	ref := res[1].GetJob().GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetEnv()[0].GetValueFrom().GetSecretKeyRef()
	if ref.GetName() != "db" || ref.GetKey() != "password" || ref.Optional == nil {
		t.Fatalf("secretKeyRef = %v", ref)
	}

	// get prints REDACTED, and that never applies back as a value.
	out, err := EncodeManifest(res[0], "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "czNjcjN0") || strings.Contains(string(out), "s3cr3t") || !strings.Contains(string(out), "password: REDACTED") {
		t.Fatalf("encoded secret shows its value:\n%s", out)
	}
	_, _, err = decodeString(t, string(out), DecodeOptions{})
	if err == nil || !strings.Contains(err.Error(), "data.password: the value is REDACTED") {
		t.Fatalf("applying a redacted secret: err = %v", err)
	}

	for _, tc := range []struct{ doc, want string }{
		{"apiVersion: batch/v1\nkind: Secret\nmetadata: {name: x}\n", `apiVersion: "batch/v1" is not supported for a Secret; use v1`},
		{"apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {k: '!!'}\n", "data.k: is not valid base64"},
		{"apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {k: 1}\n", "data.k: must be a base64 string"},
	} {
		if _, _, err := decodeString(t, tc.doc, DecodeOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.doc, err, tc.want)
		}
	}
}
