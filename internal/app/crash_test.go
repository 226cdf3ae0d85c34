package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/storage"
)

// The crash test runs the app in a child process (this test binary, told so
// by crashChildEnv), kills it with SIGKILL at a random moment while objects
// write, and checks after a restart that every write a client saw
// acknowledged is there and that no database is damaged.

const crashChildEnv = "ISOLA_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		runCrashChild(dir)
		return
	}
	if dir := os.Getenv(wfCrashChildEnv); dir != "" {
		runWorkflowCrashChild(dir) // workflow_crash_test.go
		return
	}
	os.Exit(m.Run())
}

// runCrashChild serves the project in dir on a free port, prints the port,
// and serves until killed.
func runCrashChild(dir string) {
	a, err := LoadWith(dir, log.New(io.Discard, "", 0), Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Worker.ServeHTTP(w, r, runtime.ServeOptions{})
	}))
}

const crashWorker = `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (n INTEGER PRIMARY KEY, pad TEXT)");
  }
  write() {
    const n = (this.ctx.storage.kv.get("n") ?? 0) + 1;
    this.ctx.storage.kv.put("n", n);
    this.ctx.storage.sql.exec("INSERT INTO log VALUES (?, ?)", n, "x".repeat(200));
    return n;
  }
  read() {
    return { n: this.ctx.storage.kv.get("n") ?? 0, rows: this.ctx.storage.sql.exec("SELECT n FROM log ORDER BY n").toArray().map((r) => r.n) };
  }
}
export default { async fetch(req, env) {
  const url = new URL(req.url);
  const obj = env.C.getByName(url.searchParams.get("o"));
  if (url.pathname === "/write") return new Response(String(await obj.write()));
  return Response.json(await obj.read());
} };`

type crashChild struct {
	cmd  *exec.Cmd
	port string
}

func startCrashChild(t *testing.T, dir string) *crashChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "error") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not start: %q %v", line, err)
	}
	return &crashChild{cmd: cmd, port: strings.TrimSpace(line)}
}

func (c *crashChild) kill() {
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	dir := project(t, map[string]string{"wrangler.jsonc": actorConfig, "worker.js": crashWorker})
	objects := []string{"a", "b", "c", "d"}
	acked := map[string]int{} // highest n acknowledged per object
	var mu sync.Mutex
	client := &http.Client{Timeout: 5 * time.Second}
	for round := 0; round < 3; round++ {
		child := startCrashChild(t, dir)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					o := objects[rand.IntN(len(objects))]
					resp, err := client.Get("http://127.0.0.1:" + child.port + "/write?o=" + o)
					if err != nil {
						continue // the crash cut it off: not acknowledged
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					var n int
					if resp.StatusCode != 200 || json.Unmarshal(b, &n) != nil {
						continue
					}
					mu.Lock()
					acked[o] = max(acked[o], n)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(250)) * time.Millisecond)
		child.kill() // SIGKILL, mid-write
		close(stop)
		wg.Wait()

		child = startCrashChild(t, dir)
		for _, o := range objects {
			resp, err := client.Get("http://127.0.0.1:" + child.port + "/read?o=" + o)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				N    int
				Rows []int
			}
			json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			mu.Lock()
			want := acked[o]
			mu.Unlock()
			if got.N < want {
				t.Fatalf("round %d, object %s: stored n=%d, but %d was acknowledged", round, o, got.N, want)
			}
			// KV and SQL were written in one turn: one transaction.
			if len(got.Rows) != got.N || (got.N > 0 && got.Rows[got.N-1] != got.N) {
				t.Fatalf("round %d, object %s: kv n=%d but the log has %d rows: a turn's writes were torn", round, o, got.N, len(got.Rows))
			}
		}
		child.kill()
	}
	mu.Lock()
	total := 0
	for _, n := range acked {
		total += n
	}
	mu.Unlock()
	if total == 0 {
		t.Fatal("no write was acknowledged: the test measured nothing")
	}
	// Every database passes SQLite's integrity check.
	root := filepath.Join(dir, DefaultStateDir, "objects")
	ns, err := storage.NewDirectory(root).Namespace("Counter")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ns.Objects()
	if err != nil || len(objs) != len(objects) {
		t.Fatalf("objects on disk: %v, %v", objs, err)
	}
	for _, o := range objs {
		st, err := ns.OpenReadOnly(o.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.IntegrityCheck(); err != nil {
			t.Fatalf("object %s: %v", o.ID, err)
		}
		st.Close()
	}
	t.Logf("acknowledged writes across rounds: %v", acked)
}
