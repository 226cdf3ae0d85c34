package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestParseDevArgs(t *testing.T) {
	cases := []struct {
		args []string
		want devArgs
	}{
		{nil, devArgs{dir: "."}},
		{[]string{"w"}, devArgs{dir: "w"}},
		{[]string{"--port", "9000", "w"}, devArgs{dir: "w", port: 9000}},
		{[]string{"w", "--port", "9000", "--ip", "0.0.0.0"}, devArgs{dir: "w", port: 9000, ip: "0.0.0.0"}},
		{[]string{"--ip=::1", "w", "--port=1"}, devArgs{dir: "w", port: 1, ip: "::1"}},
		{[]string{"--admin", "off"}, devArgs{dir: ".", admin: "off"}},
		{[]string{"w", "--admin", "9100"}, devArgs{dir: "w", admin: "127.0.0.1:9100"}},
		{[]string{"--admin=0.0.0.0:9100"}, devArgs{dir: ".", admin: "0.0.0.0:9100"}},
		{[]string{"--ui=false", "w"}, devArgs{dir: "w", noUI: true}},
	}
	for _, c := range cases {
		got, err := parseDevArgs(c.args, io.Discard)
		if err != nil || got != c.want {
			t.Errorf("%q: got %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	for _, bad := range [][]string{{"a", "b"}, {"--port", "x"}, {"--port", "70000"}, {"--nope"}, {"--admin", "nope"}} {
		if _, err := parseDevArgs(bad, io.Discard); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"version"}, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "isola ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	out.Reset()
	if err := run([]string{"help"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "isola dev") {
		t.Fatalf("help: %v %q", err, out.String())
	}
	if err := run([]string{"frobnicate"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run([]string{"dev", t.TempDir()}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "wrangler.jsonc") {
		t.Fatalf("dev without a config: %v", err)
	}
}
