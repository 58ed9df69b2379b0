package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func init() { rootCmd.AddCommand(newApplyCmd()) }

// newApplyCmd is `raftcron apply -f FILE`.
func newApplyCmd() *cobra.Command {
	var (
		files             []string
		ignoreUnsupported bool
		dryRun            bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create or update CronJobs and Jobs from Kubernetes-style manifests",
		Long: `Create or update CronJobs and Jobs from YAML or JSON manifests.

Kubernetes batch/v1 CronJob and Job manifests apply as written. A file may hold
several documents separated by ---; -f - reads standard input; -f DIR reads
every .yaml, .yml and .json file in DIR. With -n, a manifest that names
another namespace is an error, as in kubectl.

--dry-run validates on the server and changes nothing: it prints what each
object's apply would do (created, configured, unchanged) and, below it, the
unified diff from the stored object to the applied one (raftcron diff prints
the diff alone).`,
		Example: `  raftcron apply -f hello.yaml
  raftcron apply -f jobs/ --dry-run                 # what would change, as a unified diff
  cat cronjob.yaml | raftcron apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := readManifests(cmd, files, ignoreUnsupported)
			if err != nil {
				return err
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			results, err := c.Apply(ctx, res, dryRun)
			if err != nil {
				return err
			}
			var diffs map[string]client.ObjectDiff
			if dryRun {
				list, err := c.Diff(ctx, res)
				if err != nil {
					return err
				}
				diffs = make(map[string]client.ObjectDiff, len(list))
				for _, d := range list {
					diffs[d.Kind+"/"+d.Namespace+"/"+d.Name] = d
				}
			}
			out := cmd.OutOrStdout()
			for _, r := range results {
				if !dryRun {
					fmt.Fprintf(out, "%s/%s %s\n", resourceName(r.GetKind()), r.GetName(), r.GetAction())
					continue
				}
				fmt.Fprintf(out, "%s/%s %s (dry run)\n", resourceName(r.GetKind()), r.GetName(), r.GetAction())
				d := diffs[client.CanonicalKind(r.GetKind())+"/"+r.GetNamespace()+"/"+r.GetName()]
				printDiff(out, d, r.GetAction())
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file, directory, or - for standard input (repeatable)")
	cmd.Flags().BoolVar(&ignoreUnsupported, "ignore-unsupported", false, "drop Kubernetes fields raftcron does not support, with a warning, instead of failing")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate on the server and show what would change (a unified diff per object), without changing anything")
	return cmd
}

// readManifests decodes the manifests named by -f. Warnings go to stderr.
func readManifests(cmd *cobra.Command, files []string, ignoreUnsupported bool) ([]*pb.Resource, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("-f: name at least one manifest file, directory, or - for standard input")
	}
	paths, err := expandFiles(files)
	if err != nil {
		return nil, err
	}
	opts := client.DecodeOptions{Namespace: namespaceFlag(cmd), IgnoreUnsupported: ignoreUnsupported,
		EnforceNamespace: cmd.Flags().Changed("namespace")}
	var all []*pb.Resource
	for _, p := range paths {
		var r io.Reader
		if p == "-" {
			r = cmd.InOrStdin()
		} else {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("-f: %w", err)
			}
			r = bytes.NewReader(b)
		}
		res, warnings, err := client.DecodeManifests(r, opts)
		for _, w := range warnings {
			fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s: %s\n", displayName(p), w)
		}
		if err != nil {
			msg := fmt.Sprintf("%s:\n%s", displayName(p), indent(err.Error()))
			if strings.Contains(err.Error(), "not supported by raftcron") && !ignoreUnsupported {
				msg += "\n(use --ignore-unsupported to drop unsupported fields with a warning)"
			}
			return nil, fmt.Errorf("%s", msg)
		}
		all = append(all, res...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no objects passed to apply: %s holds no CronJob or Job", strings.Join(files, ", "))
	}
	return all, nil
}

// expandFiles turns -f values into files: directories give their .yaml,
// .yml and .json files in name order.
func expandFiles(files []string) ([]string, error) {
	var out []string
	for _, f := range files {
		if f == "-" {
			out = append(out, f)
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("-f: %w", err)
		}
		if !st.IsDir() {
			out = append(out, f)
			continue
		}
		entries, err := os.ReadDir(f)
		if err != nil {
			return nil, fmt.Errorf("-f: %w", err)
		}
		var found []string
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".yaml", ".yml", ".json":
				if !e.IsDir() {
					found = append(found, filepath.Join(f, e.Name()))
				}
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("-f %s: the directory has no .yaml, .yml or .json files", f)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

func displayName(p string) string {
	if p == "-" {
		return "<stdin>"
	}
	return p
}

// indent prefixes every line of s with two spaces.
func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}
