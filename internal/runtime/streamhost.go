package runtime

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"io"

	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// The "stream" host group: the Go side of streams the prelude writes bytes
// into. CompressionStream and DecompressionStream (16_optional.js) use Go's
// compress packages, crypto.DigestStream (70_crypto.js) its hashes.
//
// Compression streams:
// each write gives back what the compressor has flushed so far. Decompression
// is not pushed chunk by chunk (compress/flate pulls its input and cannot
// resume once it runs out), so the prelude gathers a stream's input and
// reads the output here in pieces when the stream closes.

// maxOpenCompressors bounds the compression streams an isolate may have open
// at once: a compressor's tables (~1 MB at the default level) are Go memory,
// which the isolate's memory limit does not see. A digest's state is a few
// hundred bytes, and is not counted.
const maxOpenCompressors = 16

// inflatePiece is the most output one inflateRead gives back.
const inflatePiece = 64 << 10

// byteStream is one such stream: it compresses, decompresses or digests.
type byteStream struct {
	w    io.WriteCloser // compressing
	out  bytes.Buffer
	r    io.Reader // decompressing
	in   *bufio.Reader
	done bool      // r has given all its output
	hash hash.Hash // digesting
}

const tooManyCompressors = "RangeError: Too many CompressionStreams and DecompressionStreams open at once in this worker (16); close some first."

func (iso *Isolate) streamHost(fns map[string]any) {
	fns["compressOpen"] = func(iso *Isolate, format string) []any {
		c := &byteStream{}
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
		return iso.addByteStream(c)
	}
	fns["compressWrite"] = func(iso *Isolate, h int, data quickjs.Value) []any {
		c := iso.byteStreams[h]
		b, ok := jsvm.ArrayBufferBytes(data)
		if c == nil || c.w == nil || !ok {
			return []any{nil, "TypeError: not an open CompressionStream or not an ArrayBuffer"}
		}
		c.w.Write(b) // writes to a bytes.Buffer do not fail
		return []any{c.take(iso), nil}
	}
	fns["compressEnd"] = func(iso *Isolate, h int) []any {
		c := iso.byteStreams[h]
		if c == nil || c.w == nil {
			return []any{nil, "TypeError: not an open CompressionStream"}
		}
		c.w.Close()
		delete(iso.byteStreams, h)
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
		c := &byteStream{in: bufio.NewReader(&in)}
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
		return iso.addByteStream(c)
	}
	fns["inflateRead"] = func(iso *Isolate, h int) []any {
		c := iso.byteStreams[h]
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
				delete(iso.byteStreams, h)
				return []any{nil, inflateError(err)}
			}
			if n > 0 {
				return []any{jsvm.NewArrayBuffer(iso.vm, buf[:n]), nil}
			}
		}
		delete(iso.byteStreams, h)
		if _, err := c.in.Peek(1); err == nil {
			return []any{nil, "TypeError: Trailing bytes after end of compressed data"}
		}
		return []any{nil, nil} // the end
	}
	fns["digestOpen"] = func(iso *Isolate, algorithm string) []any {
		var h hash.Hash
		switch algorithm {
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		case "MD5":
			h = md5.New()
		default:
			return []any{nil, "NotSupportedError: Unrecognized or unimplemented digest algorithm requested."}
		}
		return iso.addByteStream(&byteStream{hash: h})
	}
	fns["digestWrite"] = func(iso *Isolate, h int, data quickjs.Value) []any {
		c := iso.byteStreams[h]
		b, ok := jsvm.ArrayBufferBytes(data)
		if c == nil || c.hash == nil || !ok {
			return []any{nil, "TypeError: not an open DigestStream or not an ArrayBuffer"}
		}
		c.hash.Write(b)
		return []any{nil, nil}
	}
	fns["digestEnd"] = func(iso *Isolate, h int) []any {
		c := iso.byteStreams[h]
		if c == nil || c.hash == nil {
			return []any{nil, "TypeError: not an open DigestStream"}
		}
		delete(iso.byteStreams, h)
		return []any{jsvm.NewArrayBuffer(iso.vm, c.hash.Sum(nil)), nil}
	}
	fns["byteStreamFree"] = func(iso *Isolate, h int) { delete(iso.byteStreams, h) }
}

func (iso *Isolate) addByteStream(c *byteStream) []any {
	if c.hash == nil {
		open := 0
		for _, o := range iso.byteStreams {
			if o.hash == nil {
				open++
			}
		}
		if open >= maxOpenCompressors {
			return []any{nil, tooManyCompressors}
		}
	}
	if iso.byteStreams == nil {
		iso.byteStreams = map[int]*byteStream{}
	}
	iso.nextByteStream++
	iso.byteStreams[iso.nextByteStream] = c
	return []any{iso.nextByteStream, nil}
}

// take hands the compressed bytes so far to the engine.
func (c *byteStream) take(iso *Isolate) quickjs.Value {
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
