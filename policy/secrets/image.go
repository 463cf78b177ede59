package secrets

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
)

// ErrImageSecret: an image holds a secret outside the text fields pal knows how to remove.
var ErrImageSecret = errors.New("the image holds text that looks like a secret")

// maxImageText bounds the inflated size of one compressed PNG text chunk.
const maxImageText = 1 << 20

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// RedactImage removes the text fields of an image that hold a secret: PNG tEXt, zTXt and iTXt
// chunks, JPEG comment (COM) and application (APPn: EXIF, XMP) segments. A field holding a
// secret is dropped whole (pal does not rewrite image metadata); a compressed field that does
// not inflate is dropped too. The bytes left are scanned once more, and if a secret is still
// found (another format, another place) the image is refused with ErrImageSecret.
func (s *Scanner) RedactImage(data []byte) ([]byte, Report, error) {
	var rep Report
	if s == nil {
		return data, rep, nil
	}
	out := data
	switch {
	case bytes.HasPrefix(data, pngSignature):
		out, rep = s.redactPNG(data)
	case len(data) > 2 && data[0] == 0xFF && data[1] == 0xD8:
		out, rep = s.redactJPEG(data)
	}
	if left := s.Find(string(out)); len(left) > 0 {
		rep.Add(Report{Count: len(left), Kinds: kindsOf(left)})
		return nil, rep, ErrImageSecret
	}
	return out, rep, nil
}

func kindsOf(found []Finding) map[string]int {
	m := map[string]int{}
	for _, f := range found {
		m[f.Kind]++
	}
	return m
}

// redactPNG drops the text chunks that hold a secret. Malformed chunk lists are returned as
// they are, for the final scan to judge.
func (s *Scanner) redactPNG(data []byte) ([]byte, Report) {
	var rep Report
	out := append([]byte(nil), data[:len(pngSignature)]...)
	dropped := false
	for p := len(pngSignature); p < len(data); {
		if len(data)-p < 12 {
			return data, Report{}
		}
		n := int(binary.BigEndian.Uint32(data[p:]))
		end := p + 12 + n
		if n < 0 || end > len(data) || end < p {
			return data, Report{}
		}
		typ := string(data[p+4 : p+8])
		body := data[p+8 : p+8+n]
		if text, ok := pngText(typ, body); ok {
			found := s.Find(text)
			if len(found) > 0 || text == "" && typ != "tEXt" {
				rep.Add(Report{Count: len(found), Kinds: kindsOf(found)})
				dropped = true
				p = end
				continue
			}
		}
		out = append(out, data[p:end]...)
		p = end
	}
	if !dropped {
		return data, rep
	}
	return out, rep
}

// pngText returns the text of a PNG text chunk (keyword and value); ok is false for other
// chunks. A compressed value that does not inflate gives "" (the caller drops the chunk).
func pngText(typ string, body []byte) (string, bool) {
	switch typ {
	case "tEXt":
		return string(body), true
	case "zTXt":
		kw, rest, found := bytes.Cut(body, []byte{0})
		if !found || len(rest) < 1 {
			return "", true
		}
		text, err := inflate(rest[1:])
		if err != nil {
			return "", true
		}
		return string(kw) + "\x00" + text, true
	case "iTXt":
		kw, rest, found := bytes.Cut(body, []byte{0})
		if !found || len(rest) < 2 {
			return "", true
		}
		compressed := rest[0] == 1
		rest = rest[2:]
		lang, rest, _ := bytes.Cut(rest, []byte{0})
		tkw, rest, _ := bytes.Cut(rest, []byte{0})
		text := string(rest)
		if compressed {
			t, err := inflate(rest)
			if err != nil {
				return "", true
			}
			text = t
		}
		return string(kw) + "\x00" + string(lang) + "\x00" + string(tkw) + "\x00" + text, true
	}
	return "", false
}

func inflate(b []byte) (string, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxImageText+1))
	if err != nil {
		return "", err
	}
	if len(out) > maxImageText {
		return "", errors.New("text chunk too large")
	}
	return string(out), nil
}

// redactJPEG drops the COM and APPn segments that hold a secret, up to the start of the
// scan; what follows is copied as it is.
func (s *Scanner) redactJPEG(data []byte) ([]byte, Report) {
	var rep Report
	out := append([]byte(nil), data[:2]...)
	dropped := false
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			return data, Report{}
		}
		marker := data[p+1]
		if marker == 0xD9 || marker == 0xDA { // end of image, start of scan: the rest is data
			break
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		end := p + 2 + n
		if n < 2 || end > len(data) {
			return data, Report{}
		}
		if marker == 0xFE || (marker >= 0xE0 && marker <= 0xEF) {
			if found := s.Find(string(data[p+4 : end])); len(found) > 0 {
				rep.Add(Report{Count: len(found), Kinds: kindsOf(found)})
				dropped = true
				p = end
				continue
			}
		}
		out = append(out, data[p:end]...)
		p = end
	}
	if !dropped {
		return data, rep
	}
	return append(out, data[p:]...), rep
}
