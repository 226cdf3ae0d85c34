// Command isola runs Cloudflare Workers code on your own machine.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/isola-run/isola"
	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/server"
)

const usage = `isola runs Cloudflare Workers code, unmodified, on your own machine.

Usage:
  isola dev [dir] [--port 8787] [--ip 127.0.0.1]   serve the worker in dir (default .)
            [--state DIR]                           keep Durable Object storage in DIR
                                                    (default: .isola/state in dir)
  isola objects [dir]                               list the stored Durable Objects
  isola objects show [dir] <Class> <id-or-name>     show what an object stored
  isola objects sql [dir] <Class> <id-or-name> "<query>"
                                                    run a read-only SQL query on an object
  isola version                                     print the version
  isola help                                        show this help

isola objects help describes the objects commands and their flags.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "isola:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "dev":
		return dev(args[1:], stdout, stderr)
	case "objects":
		return objects(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "isola", isola.Version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

type devArgs struct {
	dir   string
	ip    string
	port  int
	state string
}

// parseDevArgs reads `dev`'s arguments. Flags may come before or after the
// directory, as with wrangler.
func parseDevArgs(args []string, stderr io.Writer) (devArgs, error) {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 0, "port to listen on (default: dev.port from the config, else 8787)")
	ip := fs.String("ip", "", "address to listen on (default: dev.ip from the config, else 127.0.0.1)")
	state := fs.String("state", "", "directory for Durable Object storage (default: "+app.DefaultStateDir+" in the project)")
	var dirs []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return devArgs{}, err
		}
		args = fs.Args()
		if len(args) > 0 {
			dirs = append(dirs, args[0])
			args = args[1:]
		}
	}
	if len(dirs) > 1 {
		return devArgs{}, fmt.Errorf("dev takes one directory, got %d: %v", len(dirs), dirs)
	}
	if *port < 0 || *port > 65535 {
		return devArgs{}, fmt.Errorf("--port %d: expected a port number from 0 to 65535", *port)
	}
	d := devArgs{dir: ".", ip: *ip, port: *port, state: *state}
	if len(dirs) == 1 {
		d.dir = dirs[0]
	}
	return d, nil
}

func dev(args []string, stdout, stderr io.Writer) error {
	d, err := parseDevArgs(args, stderr)
	if err != nil {
		return err
	}
	out := server.NewBufferedLog(stderr, 50*time.Millisecond)
	defer out.Close()
	logger := log.New(out, "", log.Ltime)
	a, err := app.LoadWith(d.dir, logger, app.Options{StateDir: d.state})
	if err != nil {
		return err
	}
	host, p := d.ip, d.port
	if host == "" {
		host = a.Config.Dev.IP
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if p == 0 {
		p = a.Config.Dev.Port
	}
	if p == 0 {
		p = 8787
	}
	h := &server.Dev{Worker: a.Worker, Log: logger}
	return server.Listen(net.JoinHostPort(host, strconv.Itoa(p)), h, func(addr net.Addr) {
		fmt.Fprintf(stdout, "Ready on http://%s\n", addr)
	})
}
