package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

// dockerHubKey is where Docker keeps Docker Hub's credentials.
const dockerHubKey = "https://index.docker.io/v1/"

type loginOptions struct {
	username, password string
	passwordStdin      bool
	insecure           bool
}

func newLoginCommand() *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Log in to a registry (credentials go to Docker's config.json)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			return runLogin(cmd.Context(), server, o)
		},
	}
	cmd.Flags().StringVarP(&o.username, "username", "u", "", "username")
	cmd.Flags().StringVarP(&o.password, "password", "p", "", "password (prefer --password-stdin)")
	cmd.Flags().BoolVar(&o.passwordStdin, "password-stdin", false, "take the password from stdin")
	cmd.Flags().BoolVar(&o.insecure, "insecure", false, "allow plain HTTP and unverified TLS for this registry")
	return cmd
}

// credKey is the config.json key of a server, as Docker spells it.
func credKey(server string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://"), "/")
	switch s {
	case "", "docker.io", "index.docker.io", "index.docker.io/v1", "registry-1.docker.io":
		return dockerHubKey
	}
	return s
}

func runLogin(ctx context.Context, server string, o loginOptions) error {
	if o.passwordStdin {
		if o.password != "" {
			return errors.New("--password and --password-stdin are mutually exclusive")
		}
		if o.username == "" {
			return errors.New("must provide --username with --password-stdin")
		}
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		o.password = strings.TrimRight(string(b), "\r\n")
	} else if o.password != "" {
		fmt.Fprintln(os.Stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
	}
	in := bufio.NewReader(os.Stdin)
	if o.username == "" {
		fmt.Print("Username: ")
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return errors.New("error: cannot read username")
		}
		o.username = strings.TrimSpace(line)
	}
	if o.password == "" {
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return errors.New("cannot perform an interactive login from a non TTY device")
		}
		fmt.Print("Password: ")
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Println()
		if err != nil {
			return err
		}
		o.password = string(b)
	}
	if o.username == "" || o.password == "" {
		return errors.New("username and password are required")
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Images.Login(ctx, &api.LoginRequest{
		Server: server, Insecure: o.insecure,
		Auth: &api.RegistryAuth{Username: o.username, Password: o.password},
	})
	if err != nil {
		return client.Wrap(err)
	}
	cf, err := config.Load(config.Dir())
	if err != nil {
		return fmt.Errorf("load %s: %w", config.Dir(), err)
	}
	key := credKey(resp.Server)
	store := cf.GetCredentialsStore(key)
	if err := store.Store(types.AuthConfig{Username: o.username, Password: o.password, ServerAddress: key}); err != nil {
		return fmt.Errorf("store credentials: %w", err)
	}
	if cf.CredentialsStore == "" && len(cf.CredentialHelpers) == 0 {
		fmt.Fprintf(os.Stderr, "WARNING! Your credentials are stored unencrypted in '%s'.\n", cf.Filename)
	}
	fmt.Println(resp.Status)
	return nil
}

func newLogoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Log out from a registry",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			return runLogout(server)
		},
	}
}

func runLogout(server string) error {
	cf, err := config.Load(config.Dir())
	if err != nil {
		return err
	}
	key := credKey(server)
	if _, ok := cf.AuthConfigs[key]; !ok && cf.CredentialsStore == "" && cf.CredentialHelpers[key] == "" {
		fmt.Printf("Not logged in to %s\n", key)
		return nil
	}
	fmt.Printf("Removing login credentials for %s\n", key)
	return cf.GetCredentialsStore(key).Erase(key)
}
