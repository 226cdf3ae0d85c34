package runtime

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"

	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// The "compress" host group is behind 16_optional.js: CompressionStream
// and DecompressionStream with Go's compress packages. Compression streams:
// each write gives back what the compressor has flushed so far. Decompression
// is not pushed chunk by chunk (compress/flate pulls its input and cannot
// resume once it runs out), so the prelude gathers a stream's input and
// reads the output here in pieces when the stream closes.

// maxOpenCompressors bounds the streams an isolate may have open at once: a
// compressor's tables (~1 MB at the default level) are Go memory, which the
// isolate's memory limit does not see.
const maxOpenCompressors = 16

// inflatePiece is the most output one inflateRead gives back.
const inflatePiece = 64 << 10

type compressor struct {
	w    io.WriteCloser // compressing
	out  bytes.Buffer
	r    io.Reader // decompressing
	in   *bufio.Reader
	done bool // r has given all its output
}

const tooManyCompressors = "RangeError: Too many CompressionStreams and DecompressionStreams open at once in this worker (16); close some first."

func (iso *Isolate) compressHost(fns map[string]any) {
	fns["compressOpen"] = func(iso *Isolate, format string) []any {
		if len(iso.compressors) >= maxOpenCompressors {
			return []any{nil, tooManyCompressors}
		}
		c := &compressor{}
		switch format {
		case "gzip":
			c.w = gzip.NewWriter(&c.out)
		case "deflate":
			c.w = zlib.NewWriter(&c.out)
		case "deflate-raw":
			c.w, _ = flate.NewWriter(&c.out, flate.DefaultCompression) // fails only for a bad level
		default:
			return []any{nil, "TypeError: The compression format must be either 'deflate', 'deflate-raw' or 'gzip'."}
		}
		return iso.addCompressor(c)
	}
	fns["compressWrite"] = func(iso *Isolate, h int, data quickjs.Value) []any {
		c := iso.compressors[h]
		b, ok := jsvm.ArrayBufferBytes(data)
		if c == nil || c.w == nil || !ok {
			return []any{nil, "TypeError: not an open CompressionStream or not an ArrayBuffer"}
		}
		c.w.Write(b) // writes to a bytes.Buffer do not fail
		return []any{c.take(iso), nil}
	}
	fns["compressEnd"] = func(iso *Isolate, h int) []any {
		c := iso.compressors[h]
		if c == nil || c.w == nil {
			return []any{nil, "TypeError: not an open CompressionStream"}
		}
		c.w.Close()
		delete(iso.compressors, h)
		return []any{c.take(iso), nil}
	}
	fns["inflateOpen"] = func(iso *Isolate, format string, chunks ...quickjs.Value) []any {
		var in bytes.Buffer
		for _, ch := range chunks {
			b, ok := jsvm.ArrayBufferBytes(ch)
			if !ok {
				return []any{nil, "TypeError: not an ArrayBuffer"}
			}
			in.Write(b)
		}
		if in.Len() == 0 {
			return []any{nil, "TypeError: Called close() on a decompression stream with incomplete data"}
		}
		c := &compressor{in: bufio.NewReader(&in)}
		var err error
		switch format {
		case "gzip":
			var z *gzip.Reader
			if z, err = gzip.NewReader(c.in); err == nil {
				z.Multistream(false) // a second member is trailing bytes, as zlib has it
				c.r = z
			}
		case "deflate":
			c.r, err = zlib.NewReader(c.in)
		case "deflate-raw":
			c.r = flate.NewReader(c.in)
		default:
			return []any{nil, "TypeError: The compression format must be either 'deflate', 'deflate-raw' or 'gzip'."}
		}
		if err != nil {
			return []any{nil, inflateError(err)}
		}
		return iso.addCompressor(c)
	}
	fns["inflateRead"] = func(iso *Isolate, h int) []any {
		c := iso.compressors[h]
		if c == nil || c.r == nil {
			return []any{nil, "TypeError: not an open DecompressionStream"}
		}
		if !c.done {
			buf := make([]byte, inflatePiece)
			n := 0
			var err error
			for n < len(buf) && err == nil {
				var k int
				k, err = c.r.Read(buf[n:])
				n += k
			}
			switch {
			case err == io.EOF:
				c.done = true
			case err != nil:
				delete(iso.compressors, h)
				return []any{nil, inflateError(err)}
			}
			if n > 0 {
				return []any{jsvm.NewArrayBuffer(iso.vm, buf[:n]), nil}
			}
		}
		delete(iso.compressors, h)
		if _, err := c.in.Peek(1); err == nil {
			return []any{nil, "TypeError: Trailing bytes after end of compressed data"}
		}
		return []any{nil, nil} // the end
	}
	fns["compressFree"] = func(iso *Isolate, h int) { delete(iso.compressors, h) }
}

func (iso *Isolate) addCompressor(c *compressor) []any {
	if len(iso.compressors) >= maxOpenCompressors {
		return []any{nil, tooManyCompressors}
	}
	if iso.compressors == nil {
		iso.compressors = map[int]*compressor{}
	}
	iso.nextCompressor++
	iso.compressors[iso.nextCompressor] = c
	return []any{iso.nextCompressor, nil}
}

// take hands the compressed bytes so far to the engine.
func (c *compressor) take(iso *Isolate) quickjs.Value {
	v := jsvm.NewArrayBuffer(iso.vm, c.out.Bytes())
	c.out.Reset()
	return v
}

// inflateError is a decompression failure in workerd's words: input that
// stops early is incomplete data, anything else a failure.
func inflateError(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "TypeError: Called close() on a decompression stream with incomplete data"
	}
	return "TypeError: Decompression failed."
}
