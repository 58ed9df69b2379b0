package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
)

// Shell completion (`raftcron completion bash|zsh|fish|powershell`, which
// cobra provides) completes resource types and the names of the objects on
// the cluster, read with the flags the user typed (--server, -n, TLS,
// --token), as kubectl does.

// completionTimeout bounds the calls a completion makes: a shell waits.
const completionTimeout = 3 * time.Second

// getTypeWords are the types get completes, first word of each.
var getTypeWords = []string{typeCronJobs, typeJobs, typeAttempts, typeWorkers, typeSecrets, typeNamespaces, "all"}

// completeGetArgs completes `get`: TYPE (several, comma separated), then
// names of that type; TYPE/NAME after a slash.
func completeGetArgs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		if typ, prefix, ok := strings.Cut(toComplete, "/"); ok {
			return slashNames(cmd, typ, prefix), cobra.ShellCompDirectiveNoFileComp
		}
		done, last := "", toComplete
		if i := strings.LastIndex(toComplete, ","); i >= 0 {
			done, last = toComplete[:i+1], toComplete[i+1:]
		}
		var out []string
		for _, w := range getTypeWords {
			if strings.HasPrefix(w, last) {
				out = append(out, done+w)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	if strings.Contains(args[0], "/") || strings.Contains(args[0], ",") {
		if strings.Contains(args[0], "/") && strings.Contains(toComplete, "/") {
			typ, prefix, _ := strings.Cut(toComplete, "/")
			return slashNames(cmd, typ, prefix), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	t, ok := getType(args[0])
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return objectNames(cmd, t, toComplete, args[1:]), cobra.ShellCompDirectiveNoFileComp
}

// completeObjects completes verbs that take (TYPE NAME | TYPE/NAME) of the
// given types (cronjob, job, secret); many: more than one NAME (delete);
// bare: a lone NAME is of the first type (logs job/NAME or NAME).
func completeObjects(many, bare bool, types ...string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		allowed := func(typ string) (string, bool) {
			t, ok := getType(typ)
			return t, ok && slices.Contains(types, t)
		}
		switch {
		case len(args) == 0 && strings.Contains(toComplete, "/"):
			typ, prefix, _ := strings.Cut(toComplete, "/")
			if _, ok := allowed(typ); !ok {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return slashNames(cmd, typ, prefix), cobra.ShellCompDirectiveNoFileComp
		case len(args) == 0:
			var out []string
			for _, t := range types {
				word := strings.TrimSuffix(t, "s")
				if strings.HasPrefix(word, toComplete) {
					out = append(out, word)
				}
			}
			if bare {
				out = append(out, objectNames(cmd, types[0], toComplete, nil)...)
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		case strings.Contains(args[0], "/"):
			if !many || !strings.Contains(toComplete, "/") {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			typ, prefix, _ := strings.Cut(toComplete, "/")
			if _, ok := allowed(typ); !ok {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return slashNames(cmd, typ, prefix), cobra.ShellCompDirectiveNoFileComp
		case len(args) == 1 || many:
			if t, ok := allowed(args[0]); ok {
				return objectNames(cmd, t, toComplete, args[1:]), cobra.ShellCompDirectiveNoFileComp
			}
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

// slashNames completes TYPE/NAME: the names of typ starting with prefix,
// each written as the user's TYPE/NAME.
func slashNames(cmd *cobra.Command, typ, prefix string) []string {
	t, ok := getType(typ)
	if !ok {
		return nil
	}
	names := objectNames(cmd, t, prefix, nil)
	for i, n := range names {
		names[i] = typ + "/" + n
	}
	return names
}

// objectNames are the names of the objects of type t in the namespace of
// -n that start with prefix, leaving out those already given. Errors (no
// server, no permission) complete nothing: a shell has nowhere to show them.
func objectNames(cmd *cobra.Command, t, prefix string, given []string) []string {
	c, err := dialClient(cmd)
	if err != nil {
		return nil
	}
	defer c.Close()
	base := cmd.Context()
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithTimeout(base, completionTimeout)
	defer cancel()
	ns := namespaceFlag(cmd)
	var names []string
	switch t {
	case typeCronJobs:
		items, err := c.CronJobs().List(ctx, client.ListOptions{Namespace: ns})
		if err != nil {
			return nil
		}
		for _, x := range items {
			names = append(names, x.GetMetadata().GetName())
		}
	case typeJobs:
		items, err := c.Jobs().List(ctx, client.ListOptions{Namespace: ns})
		if err != nil {
			return nil
		}
		for _, x := range items {
			names = append(names, x.GetMetadata().GetName())
		}
	case typeSecrets:
		items, err := c.ListSecrets(ctx, ns)
		if err != nil {
			return nil
		}
		for _, x := range items {
			names = append(names, x.GetMetadata().GetName())
		}
	case typeAttempts:
		items, err := c.ListAttempts(ctx, ns, "")
		if err != nil {
			return nil
		}
		for _, x := range items {
			names = append(names, x.GetName())
		}
	case typeWorkers:
		items, err := c.Workers().List(ctx, "")
		if err != nil {
			return nil
		}
		for _, x := range items {
			names = append(names, x.GetId())
		}
	case typeNamespaces:
		items, err := listNamespaces(ctx, c)
		if err != nil {
			return nil
		}
		for _, x := range items {
			names = append(names, x.name)
		}
	}
	out := names[:0]
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && !slices.Contains(given, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// completeNamespaces completes -n with the namespaces that hold objects.
func completeNamespaces(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return objectNames(cmd, typeNamespaces, toComplete, nil), cobra.ShellCompDirectiveNoFileComp
}
