// Command isola runs Cloudflare Workers code on your own machine.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/isola-run/isola"
	"github.com/isola-run/isola/internal/app"
	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/server"
	"github.com/isola-run/isola/internal/wasm"
	"github.com/isola-run/isola/internal/webui"
)

const usage = `isola runs Cloudflare Workers code, unmodified, on your own machine.

Usage:
  isola dev [dir] [--port 8787] [--ip 127.0.0.1]   serve the worker in dir (default .)
            [--state DIR]                           keep Durable Object storage in DIR
                                                    (default: .isola/state in dir)
            [--admin ADDR|off]                      serve the workflows admin API on ADDR
                                                    (default: 127.0.0.1:<port+1>, when the
                                                    project has workflows)
            [--ui=false]                            do not serve the web UI (dashboard and
                                                    playgrounds) under /_isola/
  isola objects [dir]                               list the stored Durable Objects
  isola objects show [dir] <Class> <id-or-name>     show what an object stored
  isola objects sql [dir] <Class> <id-or-name> "<query>"
                                                    run a read-only SQL query on an object
  isola workflows list [--workflow W] [--status S]  list workflow instances of a running isola dev
  isola workflows status <W> <id>                   show an instance and its step history
  isola workflows pause|resume|terminate|restart <W> <id>
  isola workflows send-event <W> <id> <type> [payload-json]
  isola workflows create <W> [params-json] [--id ID]
  isola version                                     print the version
  isola help                                        show this help

isola objects help and isola workflows help describe those commands and their flags.

Environment:
  ISOLA_JS_PROFILE=FILE   isola dev samples where JavaScript spends its work, in every
                          isolate, and writes the profile to FILE on Ctrl-C or SIGTERM
                          (a table of functions, then folded stacks for flame graphs)
  ISOLA_CPU_PROFILE=FILE  isola dev profiles the Go runtime (pprof's format) and writes
                          it to FILE on Ctrl-C or SIGTERM: go tool pprof FILE; each
                          isolate's samples carry the label worker=NAME (-tags, -tagfocus)
  ISOLA_SNAPSHOT=off      every isolate makes its context and runs the prelude itself
                          instead of starting as a copy of one that did (slower; for
                          telling a snapshot problem from another)
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
	case "workflows":
		return workflowsCmd(args[1:], stdout, stderr)
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
	admin string // "" for the default, "off", or host:port
	noUI  bool
}

// parseDevArgs reads `dev`'s arguments. Flags may come before or after the
// directory, as with wrangler.
func parseDevArgs(args []string, stderr io.Writer) (devArgs, error) {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 0, "port to listen on (default: dev.port from the config, else 8787)")
	ip := fs.String("ip", "", "address to listen on (default: dev.ip from the config, else 127.0.0.1)")
	state := fs.String("state", "", "directory for Durable Object storage (default: "+app.DefaultStateDir+" in the project)")
	admin := fs.String("admin", "", "address of the workflows admin API, or off (default: 127.0.0.1 and the port after --port)")
	ui := fs.Bool("ui", true, "serve the web UI (dashboard and playgrounds) under /_isola/ on loopback addresses")
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
	d := devArgs{dir: ".", ip: *ip, port: *port, state: *state, admin: *admin, noUI: !*ui}
	if d.admin != "" && d.admin != "off" {
		addr, err := adminListenAddr(d.admin)
		if err != nil {
			return devArgs{}, err
		}
		d.admin = addr
	}
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
	if err := writeProfilesOnExit(os.Getenv("ISOLA_JS_PROFILE"), os.Getenv("ISOLA_CPU_PROFILE"), stderr); err != nil {
		return err
	}
	logger := log.New(out, "", log.Ltime)
	// Compiled WebAssembly is kept between runs in the user's cache, as Go
	// keeps its builds (wasm.UseCacheDir); without one, modules are compiled
	// at every start.
	if dir, err := os.UserCacheDir(); err == nil {
		if err := wasm.UseCacheDir(filepath.Join(dir, "isola", "wasm")); err != nil {
			logger.Printf("warning: compiled WebAssembly is not cached: %v", err)
		}
	}
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
	var ui *webui.UI
	if !d.noUI {
		if ui, err = webui.New(webui.Options{Project: a, Log: logger}); err != nil {
			return err
		}
		defer ui.Close()
	}
	if a.Workflows != nil && d.admin != "off" {
		if err := serveAdmin(a, d.admin, p, ui, logger, stdout, stderr); err != nil {
			return err
		}
	}
	var h http.Handler = &server.Dev{Worker: a.Worker, Log: logger}
	if ui != nil {
		h = ui.Wrap(h)
	}
	return server.Listen(net.JoinHostPort(host, strconv.Itoa(p)), h, func(addr net.Addr) {
		fmt.Fprintf(stdout, "Ready on http://%s\n", addr)
		if ui != nil {
			fmt.Fprintf(stdout, "Dashboard and playgrounds on http://%s%s\n", loopbackAddr(addr), webui.Prefix)
		}
	})
}

// writeProfilesOnExit starts the profiles asked for (either path may be
// empty) and writes them when the process is told to stop: the JavaScript
// profile (runtime.WriteJSProfile) to jsPath, Go's CPU profile to cpuPath.
func writeProfilesOnExit(jsPath, cpuPath string, stderr io.Writer) error {
	if jsPath == "" && cpuPath == "" {
		return nil
	}
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return fmt.Errorf("ISOLA_CPU_PROFILE: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("ISOLA_CPU_PROFILE: %w", err)
		}
		cpu = f
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				fmt.Fprintf(stderr, "isola: writing the CPU profile: %v\n", err)
			} else {
				fmt.Fprintf(stderr, "isola: CPU profile written to %s\n", cpuPath)
			}
		}
		if jsPath != "" {
			f, err := os.Create(jsPath)
			if err == nil {
				err = runtime.WriteJSProfile(f)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintf(stderr, "isola: writing the JavaScript profile: %v\n", err)
			} else {
				fmt.Fprintf(stderr, "isola: JavaScript profile written to %s\n", jsPath)
			}
		}
		os.Exit(130)
	}()
	return nil
}

// loopbackAddr is addr as a browser on this machine reaches it: the UI
// answers only loopback host names, so a wildcard listener is shown as
// localhost.
func loopbackAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() || !ip.IsLoopback() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// adminListenAddr reads --admin: host:port, or a bare port on 127.0.0.1.
func adminListenAddr(s string) (string, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 65535 {
			return "", fmt.Errorf("--admin %s: expected a port number from 1 to 65535, host:port, or off", s)
		}
		return net.JoinHostPort("127.0.0.1", s), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("--admin %q: expected host:port (such as 127.0.0.1:8788), a port, or off", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("--admin %q: %q is not a port number", s, port)
	}
	return net.JoinHostPort(host, port), nil
}

// serveAdmin starts the workflows admin API beside the worker. By default it
// listens on loopback, on the port after the worker's: it can terminate and
// delete instances and asks for no credentials. When the default address is
// taken, isola dev goes on without it; an address given with --admin must
// work.
func serveAdmin(a *app.App, addr string, workerPort int, ui *webui.UI, logger *log.Logger, stdout, stderr io.Writer) error {
	explicit := addr != ""
	if !explicit {
		if workerPort >= 65535 {
			fmt.Fprintf(stderr, "isola: admin API not started: no port after %d; choose one with --admin ADDR\n", workerPort)
			return nil
		}
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(workerPort+1))
	}
	var h http.Handler = &server.Admin{Engine: a.Workflows, Log: logger}
	if ui != nil {
		h = ui.Wrap(h)
	}
	bound, err := server.ListenBackground(addr, h)
	if err != nil {
		if explicit {
			return fmt.Errorf("admin API: %w (choose another address with --admin ADDR, or --admin off)", err)
		}
		fmt.Fprintf(stderr, "isola: admin API not started: %v; choose another address with --admin ADDR\n", err)
		return nil
	}
	fmt.Fprintf(stdout, "Admin API on http://%s\n", bound)
	return nil
}
