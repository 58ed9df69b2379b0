package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
)

func init() { rootCmd.AddCommand(newDiffCmd()) }

// newDiffCmd is `raftcron diff -f FILE`, as `kubectl diff`.
func newDiffCmd() *cobra.Command {
	var (
		files             []string
		ignoreUnsupported bool
	)
	cmd := &cobra.Command{
		Use:   "diff -f FILE",
		Short: "Show how applying manifests would change the stored objects",
		Long: `Show, as a unified diff per object, how applying the manifests would change
what the cluster stores: the stored object (live/) against the object as apply
would store it, defaults filled in (applied/). Status and the metadata the
server sets are left out; Secret values read REDACTED on both sides. Nothing is
changed.

Exit status, as kubectl diff: 0 when there are no differences, 1 when there
are, 2 (or more) on an error.`,
		Example: `  raftcron diff -f hello.yaml
  raftcron diff -f jobs/ -n team-a`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			failed := func(err error) error { return &exitError{code: 2, err: err} }
			res, err := readManifests(cmd, files, ignoreUnsupported)
			if err != nil {
				return failed(err)
			}
			differs := false
			err = withClient(cmd, func(ctx context.Context, c *client.Client) error {
				diffs, err := c.Diff(ctx, res)
				if err != nil {
					return err
				}
				for _, d := range diffs {
					if d.Unified != "" {
						differs = true
						printDiff(cmd.OutOrStdout(), d, "")
					}
				}
				return nil
			})
			if err != nil {
				return failed(err)
			}
			if differs {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file, directory, or - for standard input (repeatable)")
	cmd.Flags().BoolVar(&ignoreUnsupported, "ignore-unsupported", false, "drop Kubernetes fields raftcron does not support, with a warning, instead of failing")
	return cmd
}

// printDiff prints one object's unified diff. A Secret that apply would
// change (action configured) with no visible difference has changed values,
// which are never shown: that is said instead.
func printDiff(w io.Writer, d client.ObjectDiff, action string) {
	if d.Unified != "" {
		fmt.Fprint(w, d.Unified)
		return
	}
	if action == "configured" && d.Kind == client.KindSecret {
		fmt.Fprintf(w, "# secret/%s: values change (Secret values are never shown)\n", d.Name)
	}
}
