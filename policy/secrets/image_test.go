package secrets

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

func pngChunk(typ string, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(body)))
	b.WriteString(typ)
	b.Write(body)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), body...)))
	return b.Bytes()
}

// pngWith encodes a 2x2 PNG and puts extra chunks right after IHDR.
func pngWith(t *testing.T, chunks ...[]byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	ihdrEnd := 8 + 12 + 13
	out := append([]byte(nil), raw[:ihdrEnd]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, raw[ihdrEnd:]...)
}

func zlibBytes(s string) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestRedactImagePNG(t *testing.T) {
	s := mustNew(t, Options{Literals: []string{providerKey}})
	keep := pngChunk("tEXt", []byte("Comment\x00drawn by hand"))
	in := pngWith(t,
		keep,
		pngChunk("tEXt", []byte("Comment\x00aws "+awsKey)),
		pngChunk("zTXt", append([]byte("Note\x00\x00"), zlibBytes("token "+githubPAT)...)),
		pngChunk("iTXt", []byte("Key\x00\x00\x00en\x00\x00"+providerKey)),
		pngChunk("iTXt", append([]byte("Z\x00\x01\x00\x00\x00"), zlibBytes(slackBot)...)),
		pngChunk("zTXt", []byte("Bad\x00\x00not zlib")),
	)
	out, rep, err := s.RedactImage(in)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count != 4 {
		t.Fatalf("report %+v, want 4 secrets", rep)
	}
	for _, secret := range []string{awsKey, providerKey, "not zlib"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Fatalf("%q left in the image", secret)
		}
	}
	if !bytes.Contains(out, keep) {
		t.Fatal("a harmless text chunk was dropped")
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("the redacted PNG does not decode: %v", err)
	}
	clean := pngWith(t, keep)
	if out, rep, err := s.RedactImage(clean); err != nil || rep.Count != 0 || !bytes.Equal(out, clean) {
		t.Fatalf("a clean PNG was changed: %v %+v", err, rep)
	}
}

func TestRedactImageJPEG(t *testing.T) {
	s := mustNew(t, Options{})
	seg := func(marker byte, payload string) []byte {
		b := []byte{0xFF, marker, 0, 0}
		binary.BigEndian.PutUint16(b[2:], uint16(len(payload)+2))
		return append(b, payload...)
	}
	var in []byte
	in = append(in, 0xFF, 0xD8)
	in = append(in, seg(0xE0, "JFIF\x00\x01\x01")...)
	in = append(in, seg(0xFE, "made with love")...)
	in = append(in, seg(0xFE, "key "+awsKey)...)
	in = append(in, seg(0xE1, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+githubPAT+"</x:xmpmeta>")...)
	in = append(in, 0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, 0xFF, 0xD9)
	out, rep, err := s.RedactImage(in)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count != 2 || strings.Contains(string(out), awsKey) || strings.Contains(string(out), githubPAT) {
		t.Fatalf("report %+v, out %q", rep, out)
	}
	if !strings.Contains(string(out), "made with love") || !bytes.HasSuffix(out, []byte{0x11, 0x22, 0xFF, 0xD9}) {
		t.Fatalf("kept parts were lost: %q", out)
	}
}

func TestRedactImageRefusesOtherPlaces(t *testing.T) {
	s := mustNew(t, Options{})
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00!\xfe\x1ecomment " + awsKey + "\x00;")
	if _, rep, err := s.RedactImage(gif); !errors.Is(err, ErrImageSecret) || rep.Count != 1 {
		t.Fatalf("GIF with a secret comment: %v %+v", err, rep)
	}
	plain := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	if out, _, err := s.RedactImage(plain); err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("plain GIF: %v", err)
	}
}
