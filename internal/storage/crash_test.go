package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	execpkg "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const crashEnv = "ISOLA_STORAGE_CRASH_CHILD"

// crashValue is the value written under key: 10 to 3 000 bytes that depend
// on the key, so a torn or misplaced write is detected.
func crashValue(key string, i int) []byte {
	return bytes.Repeat([]byte(key+";"), 1+i%300)
}

// TestCrashChild is the child process of TestCrashSafety: it writes turn
// after turn to the database and prints each turn's key once the turn's
// Commit has returned, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process of TestCrashSafety")
	}
	fail := func(err error) {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	start, _ := strconv.Atoi(os.Getenv(crashEnv + "_START"))
	s, err := Open(path, Options{})
	if err != nil {
		fail(err)
	}
	if _, err := s.Exec("CREATE TABLE IF NOT EXISTS rows (k TEXT PRIMARY KEY, v BLOB)"); err != nil {
		fail(err)
	}
	for i := start; ; i++ {
		key := fmt.Sprintf("k%08d", i)
		value := crashValue(key, i)
		if err := s.Begin(); err != nil {
			fail(err)
		}
		if err := s.Put(key, value); err != nil {
			fail(err)
		}
		if err := s.PutMany([]KV{{key + "/a", value[:5]}, {key + "/b", value[:7]}}); err != nil {
			fail(err)
		}
		if _, err := s.Exec("INSERT OR REPLACE INTO rows VALUES (?, ?)", key, value); err != nil {
			fail(err)
		}
		if i%5 == 0 {
			if err := s.TransactionSync(func() error { return s.Put(key+"/sync", value[:3]) }); err != nil {
				fail(err)
			}
		}
		if err := s.SetAlarm(time.UnixMilli(int64(1_800_000_000_000 + i))); err != nil {
			fail(err)
		}
		if err := s.Commit(); err != nil {
			fail(err)
		}
		fmt.Println(key) // acknowledged: the commit returned
	}
}

// TestCrashSafety kills a writing child process with SIGKILL at random
// moments and checks that every write it acknowledged survived and that the
// database is intact.
func TestCrashSafety(t *testing.T) {
	path := filepath.Join(t.TempDir(), "obj", "storage.sqlite")
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var acked []string
	next := 0
	for round := range 10 {
		cmd := execpkg.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, crashEnv+"_START="+strconv.Itoa(next))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())

		lines := make(chan string, 1<<16)
		go func() {
			defer close(lines)
			br := bufio.NewReader(out)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return // a line cut short by the kill is not an acknowledgement
				}
				lines <- strings.TrimSuffix(line, "\n")
			}
		}()
		// Wait for the first acknowledgement, then kill at a random moment.
		var got []string
		select {
		case l, ok := <-lines:
			if ok {
				got = append(got, l)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatal("child made no progress")
		}
		time.Sleep(time.Duration(5+r.IntN(150)) * time.Millisecond)
		must(t, cmd.Process.Kill())
		cmd.Wait()
		for l := range lines {
			got = append(got, l)
		}
		io.Copy(io.Discard, out)
		for _, l := range got {
			if strings.HasPrefix(l, "ERROR") {
				t.Fatalf("child: %s", l)
			}
			if !strings.HasPrefix(l, "k") {
				continue
			}
			acked = append(acked, l)
		}
		if len(got) > 0 {
			last := acked[len(acked)-1]
			n, err := strconv.Atoi(last[1:])
			must(t, err)
			next = n + 1
		}

		// Every acknowledged turn is there, whole.
		s, err := Open(path, Options{})
		must(t, err)
		must(t, s.IntegrityCheck())
		for _, key := range acked {
			i, _ := strconv.Atoi(key[1:])
			want := crashValue(key, i)
			v, ok, err := s.Get(key)
			must(t, err)
			if !ok || !bytes.Equal(v, want) {
				t.Fatalf("round %d: acknowledged key %s lost or damaged (found %v)", round, key, ok)
			}
			if b, ok, _ := s.Get(key + "/b"); !ok || !bytes.Equal(b, want[:7]) {
				t.Fatalf("round %d: %s/b lost: the turn was not atomic", round, key)
			}
			if i%5 == 0 {
				if _, ok, _ := s.Get(key + "/sync"); !ok {
					t.Fatalf("round %d: %s/sync lost", round, key)
				}
			}
			if got := one(t, s, "SELECT v FROM rows WHERE k = ?", key); !bytes.Equal(got.([]byte), want) {
				t.Fatalf("round %d: SQL row %s damaged", round, key)
			}
		}
		// A turn is all or nothing, acknowledged or not: no key without its
		// companions.
		n1, _ := s.Count()
		rows := one(t, s, "SELECT count(*) FROM rows").(int64)
		syncs := int64(0)
		for _, kv := range must2(s.List(ListOptions{})) {
			if strings.HasSuffix(kv.Key, "/sync") {
				syncs++
			}
		}
		if n1-syncs != 3*rows {
			t.Fatalf("round %d: %d KV pairs (%d from transactionSync) for %d SQL rows: a turn was torn", round, n1, syncs, rows)
		}
		if len(acked) > 0 {
			last, _ := strconv.Atoi(acked[len(acked)-1][1:])
			at, ok, err := s.GetAlarm()
			must(t, err)
			if !ok || at.UnixMilli() < int64(1_800_000_000_000+last) {
				t.Fatalf("round %d: alarm %v older than the last acknowledged turn", round, at)
			}
		}
		must(t, s.Close())
	}
	if len(acked) < 20 {
		t.Fatalf("only %d turns acknowledged in 10 rounds", len(acked))
	}
	t.Logf("%d acknowledged turns survived 10 SIGKILLs", len(acked))
}

func must2[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
