package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sia-agent/sia/backend"
	trainembedded "github.com/sia-agent/sia/train/embedded"
)

func newModelCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Manage the embedded task model (tinylm)",
	}
	var taskName, taskDir string
	pre := &cobra.Command{
		Use:   "pretrain",
		Short: "Pretrain (or load from the cache) the embedded base model of a task",
		Long: `Pretrain the embedded base model for a task on its public train split (or the corpus the
task bundles), and cache it under SIA_CACHE_DIR/models keyed by corpus and configuration.
sia run does this on first use; this command does it ahead of time.`,
		Example: "  sia model pretrain --task demo",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (taskName == "") == (taskDir == "") {
				return errors.New("give exactly one of --task NAME or --task-dir DIR")
			}
			t, err := a.openTask(taskName, taskDir, 0)
			if err != nil {
				return err
			}
			data, err := t.Load(cmd.Context())
			if err != nil {
				return err
			}
			et := backend.NewEmbedded(t, data, a.modelCacheDir(), a.notify, trainembedded.Config{})
			m, path, err := et.Base(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.streams.Out, "base model for %s: %s (hash %s)\n", t.Spec.Name, path, m.Hash())
			return nil
		},
	}
	pre.Flags().StringVar(&taskName, "task", "", "bundled task name")
	pre.Flags().StringVar(&taskDir, "task-dir", "", "task folder in SIA's layout")
	cmd.AddCommand(pre)
	return cmd
}
