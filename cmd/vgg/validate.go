package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/govgg/govgg/train"
)

func runValidate(args []string, stdout io.Writer) error {
	cfg, err := parseRecipe("validate", args, train.DefaultConfig(), stdout)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m, err := train.Validate(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, m.Dict())
	return nil
}
